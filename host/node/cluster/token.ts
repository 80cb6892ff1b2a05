/**
 * The cluster's shared secret: every connection (driver, worker, volunteer tab, dashboard, REST)
 * presents it. Compared in constant time over digests, so neither its content nor its length leaks
 * through timing.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** 256 random bits, URL-safe. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokensMatch(presented: string | null, expected: string): boolean {
  if (presented === null) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The cookie a dashboard keeps its token in. Cookies are shared by every port of a host, so each
 * server names its own: a coordinator on 7077 and an application's UI on 4040 must not overwrite
 * each other's token.
 */
export function tokenCookieName(port: number): string {
  return `flint_token_${port}`;
}

/** The token a request presents: `Authorization: Bearer`, then `?token=`, then the dashboard's cookie. */
export function presentedToken(req: IncomingMessage, cookieName?: string): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  const url = new URL(req.url ?? '/', 'http://x');
  const q = url.searchParams.get('token');
  if (q !== null) return q;
  if (!cookieName) return null;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === cookieName) return decodeURIComponent(v.join('='));
  }
  return null;
}

/** How the token was chosen, for the startup banner. */
export function resolveToken(flag: string | undefined, env: string | undefined): { token: string; source: 'flag' | 'FLINT_TOKEN' | 'generated' } {
  if (flag) return { token: flag, source: 'flag' };
  if (env) return { token: env, source: 'FLINT_TOKEN' };
  return { token: generateToken(), source: 'generated' };
}
