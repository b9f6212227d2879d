// Preloaded into etsy statsd by TestDifferentialEtsy (node --require):
// statsd schedules its flush with setTimeout(flushMetrics, ...) on a
// wall-clock timer, which races the test's packets on a loaded machine.
// Here that timer is never armed; the flush runs when the process gets
// SIGUSR2, so the test decides exactly which packets an interval holds.
'use strict';
const realSetTimeout = global.setTimeout;
let flush = null;
global.setTimeout = function (fn, ms, ...args) {
  if (typeof fn === 'function' && fn.name === 'flushMetrics') {
    flush = () => fn(...args);
    return { ref() { return this; }, unref() { return this; }, hasRef() { return false; } };
  }
  return realSetTimeout(fn, ms, ...args);
};
process.on('SIGUSR2', () => {
  if (flush === null) {
    console.error('etsy-manual-flush: SIGUSR2 before statsd scheduled a flush');
    return;
  }
  const f = flush;
  flush = null;
  f();
});
