// Injected before any of the page's own scripts (Page.addScriptToEvaluateOnNewDocument): buffered
// PerformanceObservers that keep the paint, LCP, layout-shift and long-task entries of the top
// frame, and two readers plumb calls with Runtime.evaluate.
(() => {
  if (window !== window.top || window.__plumb) return;
  const kept = { fcp: null, lcp: [], shifts: [], tasks: [] };
  const observe = (type, keep) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(keep))
        .observe({ type, buffered: true });
    } catch (e) { /* an entry type this browser lacks */ }
  };
  observe('paint', (e) => { if (e.name === 'first-contentful-paint') kept.fcp = e.startTime; });
  observe('largest-contentful-paint', (e) => kept.lcp.push({
    t: e.startTime, size: e.size, url: e.url || null,
    tag: e.element ? e.element.tagName.toLowerCase() : null,
  }));
  observe('layout-shift', (e) => kept.shifts.push({ t: e.startTime, v: e.value, input: e.hadRecentInput }));
  observe('longtask', (e) => kept.tasks.push({ t: e.startTime, d: e.duration }));
  const lastBusy = () => JSON.stringify([performance.now(), Math.max(0, ...kept.tasks.map((t) => t.t + t.d))]);
  const collect = () => {
    const nav = performance.getEntriesByType('navigation')[0] || null;
    const lcp = kept.lcp.length ? kept.lcp[kept.lcp.length - 1] : null;
    let lcpResource = null;
    if (lcp && lcp.url) {
      const r = performance.getEntriesByName(lcp.url, 'resource')[0];
      if (r) lcpResource = { start: r.startTime, requestStart: r.requestStart, responseEnd: r.responseEnd };
    }
    const images = [...document.images].filter((i) => i.currentSrc && i.naturalWidth > 0).map((i) => ({
      url: i.currentSrc, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight,
      width: i.getBoundingClientRect().width * devicePixelRatio,
      height: i.getBoundingClientRect().height * devicePixelRatio,
    }));
    return JSON.stringify({
      now: performance.now(),
      nav: nav && {
        ttfb: nav.responseStart, dcl: nav.domContentLoadedEventStart, load: nav.loadEventStart,
      },
      fcp: kept.fcp, lcp, lcpResource, shifts: kept.shifts, tasks: kept.tasks,
      resources: performance.getEntriesByType('resource').map((r) => ({
        url: r.name, blocking: r.renderBlockingStatus === 'blocking',
      })),
      images, viewport: [innerWidth, innerHeight],
    });
  };
  Object.defineProperty(window, '__plumb', { value: { lastBusy, collect }, enumerable: false });
})();
