/** Cached RDDs: how much of each is cached, how big it is, and on which executors. */
import type { RDDStorageInfo } from '../../../host/ui/types.js';
import { api, useApi } from '../api.js';
import { Card, Empty, ErrorBox, Loading } from '../components/ui.js';
import { bytes, count, percent } from '../format.js';

function RddRow(props: { appId: string; rdd: RDDStorageInfo }) {
  const details = useApi<RDDStorageInfo>(api(props.appId, `/storage/rdd/${props.rdd.id}`), { appId: props.appId });
  const r = props.rdd;
  const fraction = r.numPartitions ? r.numCachedPartitions / r.numPartitions : 0;
  return (
    <tr data-rdd={r.id}>
      <td>
        <b>{r.name}</b> <span class="muted">[{r.id}]</span>
        <div class="muted small">{r.callSite}</div>
      </td>
      <td>{r.storageLevel}</td>
      <td>
        <div class="progress-wrap">
          <div class="progress">
            <div class="progress-done" style={{ width: `${100 * fraction}%` }} />
          </div>
          <span class="progress-label num" data-field="cached-partitions">
            {count(r.numCachedPartitions)}/{count(r.numPartitions)} ({percent(r.numCachedPartitions, r.numPartitions)})
          </span>
        </div>
      </td>
      <td class="numeric num" data-field="memory">
        {bytes(r.memoryUsed)}
      </td>
      <td>
        {(details.data?.dataDistribution ?? []).map((d) => (
          <div key={d.executorId} class="small">
            <span class="mono">{d.executorId}</span> <span class="muted">{d.address}</span> <span class="num">{bytes(d.memoryUsed)}</span>
          </div>
        ))}
      </td>
    </tr>
  );
}

export function StoragePage(props: { appId: string }) {
  const rdds = useApi<RDDStorageInfo[]>(api(props.appId, '/storage/rdd'), { appId: props.appId });
  if (rdds.error) return <ErrorBox error={rdds.error} />;
  if (!rdds.data) return <Loading />;
  return (
    <div class="page">
      <Card title={`Cached RDDs (${rdds.data.length})`}>
        {rdds.data.length === 0 ? (
          <Empty>No RDD is cached. RDDs marked with cache() or persist() appear here once an action has computed them.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table" id="storage-table">
              <thead>
                <tr>
                  <th>RDD</th>
                  <th>Storage level</th>
                  <th>Cached partitions</th>
                  <th class="numeric">Size in memory</th>
                  <th>Where</th>
                </tr>
              </thead>
              <tbody>
                {rdds.data.map((r) => (
                  <RddRow key={r.id} appId={props.appId} rdd={r} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}
