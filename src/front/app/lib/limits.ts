/** Every bound of the dashboard in one place: memory stays flat however fast traffic arrives. */

/** Rows kept in the live list; past it the oldest are dropped (and counted on screen). */
export const MAX_ROWS = 50_000;
/** Page size of the initial history load (`GET /api/entries`, the API's maximum). */
export const HISTORY_PAGE = 1000;
/** Rows loaded from history when a filter is applied (the live stream adds the rest). */
export const HISTORY_MAX = 10_000;
/** Pause between typing in the KFL bar and checking the filter with `/api/kfl`. */
export const KFL_CHECK_DEBOUNCE_MS = 200;
/** Suggestions shown by the KFL autocomplete. */
export const MAX_SUGGESTIONS = 12;
/** Body bytes asked for in the detail panel (`maxPayload`). */
export const DETAIL_MAX_PAYLOAD = 256 * 1024;
/** Bytes shown in a hex dump (the rest is cut, with a note). */
export const MAX_HEX_BYTES = 16 * 1024;
/** Characters pretty-printed (JSON / XML); longer bodies are shown as they are. */
export const MAX_PRETTY_CHARS = 512 * 1024;
/** Poll period of worker health. */
export const HEALTH_POLL_MS = 2000;
/** The service map and the statistics refresh themselves this often. */
export const VIEW_REFRESH_MS = 10_000;
/** Live-stream reconnection back-off (doubling, capped). */
export const RECONNECT_MIN_MS = 500;
export const RECONNECT_MAX_MS = 10_000;
/** Service-map edges drawn (the busiest); the rest are counted. */
export const MAX_MAP_EDGES = 300;
/** Endpoints in the stats view's table. */
export const TOP_ENDPOINTS = 25;
/**
 * The live list re-renders at most once per animation frame and at most this often: at
 * thousands of entries per second a faster list is unreadable anyway, and the browser's time
 * goes to input instead.
 */
export const MIN_RENDER_INTERVAL_MS = 50;
/** Height of one traffic-list row in pixels (fixed: scrolling math stays O(1)). */
export const ROW_HEIGHT = 24;
