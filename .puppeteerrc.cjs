// Debian's chromium is used for browser tests; puppeteer must never download its own.
module.exports = { skipDownload: true };
