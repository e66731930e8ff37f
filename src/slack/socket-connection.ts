import type { SocketModeReceiver } from '@slack/bolt';
import type { Logger } from '../log.js';

/**
 * How long the Socket Mode connection may be down before `GET /healthz` says so (503).
 *
 * The Socket Mode client waits its `clientPingTimeout` (5 s, which the app leaves at its default) before it tries to
 * reconnect, then asks `apps.connections.open` for a new URL and opens a new WebSocket. So a routine reconnect (Slack
 * sends `disconnect` whenever it recycles a connection, every few hours) leaves the app unconnected for a little over
 * 5 s. 10 s is that with room for a slow handshake. A connection not back by then means the first attempt failed (the
 * client's next one comes 5 s or more after it), so /healthz says the app can't receive anything, without waiting
 * through further attempts. A constant, not a setting: it follows from the client's own timing, not from a choice.
 */
export const SOCKET_RECONNECT_GRACE_MS = 10_000;

/** The receiver's @slack/socket-mode client (a dependency of Bolt's, so its type is taken from the receiver). */
type SocketModeClient = SocketModeReceiver['client'];

/**
 * Events of @slack/socket-mode 3 meaning "not connected (any more)": `close` (its WebSocket is gone: the client
 * reconnects on it, after its delay), `reconnecting` (it tries again), `connecting` (it opens the new WebSocket),
 * `disconnecting` and `disconnected` (it stops). Only `connected` (Slack's `hello` arrived) means connected again.
 */
const DOWN_EVENTS = ['close', 'reconnecting', 'connecting', 'disconnecting', 'disconnected'] as const;

/** Where the Socket Mode connection to Slack stands, for `/healthz`: `problem()` says when it has been down too long. */
export class SocketConnection {
  /** Since when (ms) the connection is down; undefined while connected. Down until the first `connected`. */
  private downSince: number | undefined;
  private connectedOnce = false;
  private toldUnhealthy = false;

  constructor(
    client: SocketModeClient,
    private readonly logger: Logger,
  ) {
    this.downSince = Date.now();
    client.on('connected', () => this.connected());
    for (const event of DOWN_EVENTS) client.on(event, () => this.down(event));
  }

  /** `connected` while connected; `reconnecting` while down, within the grace or not. */
  get state(): 'connected' | 'reconnecting' {
    return this.downSince === undefined ? 'connected' : 'reconnecting';
  }

  /**
   * Why the app can't receive anything from Slack, when its connection has been down longer than the grace; undefined
   * when it is connected, or reconnecting for less long (a routine reconnect).
   */
  problem(): string | undefined {
    const since = this.downSince;
    if (since === undefined || Date.now() - since <= SOCKET_RECONNECT_GRACE_MS) return undefined;
    const reason = `not connected to Slack (reconnecting since ${new Date(since).toISOString()})`;
    if (!this.toldUnhealthy) {
      this.toldUnhealthy = true;
      this.logger.warn('/healthz answers 503: the Socket Mode connection to Slack is still down', {
        downSince: new Date(since).toISOString(),
        downMs: Date.now() - since,
      });
    }
    return reason;
  }

  private connected(): void {
    const since = this.downSince;
    this.downSince = undefined;
    this.toldUnhealthy = false;
    if (this.connectedOnce && since !== undefined)
      this.logger.info('Socket Mode connection to Slack back', { downMs: Date.now() - since });
    this.connectedOnce = true;
  }

  private down(event: (typeof DOWN_EVENTS)[number]): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    if (event !== 'disconnecting' && event !== 'disconnected')
      this.logger.info('Socket Mode connection to Slack lost: reconnecting', { event });
  }
}
