// Live refresh: however fast events arrive, a page refreshes at most once per interval,
// never two refreshes at once, and never later than one interval (plus the refresh itself;
// see REFRESH_SHARE for when the interval grows) after the first event it has not shown
// yet. A trailing-edge debounce would wait forever under a steady stream of events; this
// throttle cannot.
import { subscribe } from "./graphql.js";

export const REFRESH_INTERVAL_MS = 400;
// The interval grows to REFRESH_SHARE times what the last refresh took, so that a page
// watching a busy run on a loaded server takes less from the run it watches, but only as
// far as keeps the page within STALEST_MS of the server (a refresh's time counted twice).
export const REFRESH_SHARE = 5;
export const STALEST_MS = 1000;

export function throttle(fn, interval = REFRESH_INTERVAL_MS) {
  let timer = null;
  let running = false;
  let again = false;
  let last = 0;
  let took = 0;
  let stopped = false;
  const run = async () => {
    timer = null;
    if (stopped) return;
    running = true;
    again = false;
    last = Date.now();
    try {
      await fn();
      took = Date.now() - last;
    } catch (exc) {
      again = true; // a failed refresh (server away) is tried again at the next slot
      took = 0;
    } finally {
      running = false;
      if (again) schedule();
    }
  };
  const schedule = () => {
    if (timer || stopped) return;
    const wait = Math.max(interval, Math.min(REFRESH_SHARE * took, STALEST_MS - 2 * took));
    timer = setTimeout(run, Math.max(0, last + wait - Date.now()));
  };
  const trigger = () => {
    if (running) again = true;
    else schedule();
  };
  trigger.stop = () => {
    stopped = true;
    clearTimeout(timer);
  };
  return trigger;
}

// Follow a workflow's events (or all workflows' status changes) and refresh, throttled;
// also every `everyMs` while `active()` says the page shows something that moves.
export function follow({ document, variables, field, refresh, relevant, everyMs, active, onLive }) {
  const trigger = throttle(refresh);
  const stopSubscription = subscribe(
    document,
    variables,
    (event) => (!relevant || relevant(event)) && trigger(),
    field,
    onLive,
  );
  const ticker = everyMs ? setInterval(() => (!active || active()) && trigger(), everyMs) : null;
  return () => {
    trigger.stop();
    stopSubscription();
    if (ticker) clearInterval(ticker);
  };
}
