/**
 * One broker's lifecycle: start in order (HTTP for liveness, storage recovery, Kafka listener, then
 * ready), and stop in reverse (not ready, stop accepting, finish in-flight requests, close storage).
 * Readiness is true only between "listener accepting after recovery" and "stop began".
 */
import type { BrokerConfig } from '../config/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { BrokerMetrics } from '../observability/metrics.ts';
import { HttpServer } from '../http/server.ts';
import type { AdminApi } from './admin-api.ts';
import { KafkaListener } from '../net/kafka-listener.ts';
import type { ServerTls } from '../security/server-tls.ts';
import type { SaslAuthenticator } from '../security/sasl.ts';
import type { FrameHandler } from '../net/connection.ts';

/** A part of the broker with an asynchronous start and stop (storage, group coordinator, ...). */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  /**
   * Called when a stop begins, before in-flight requests are drained: answer whatever the service
   * holds back (long-polling fetches, parked JoinGroup and SyncGroup), so the drain ends promptly.
   */
  quiesce?(): void;
  /**
   * A stop arrived while this service was still starting (a broker of a cluster waiting for a
   * quorum): give up, so start() rejects soon with SB_ERR_CLOSED after releasing what it holds.
   */
  abortStart?(): void;
  stop(): Promise<void>;
}

export interface BrokerParts {
  config: BrokerConfig;
  log: Logger;
  metrics: BrokerMetrics;
  /** Started in order before the listener; stopped in reverse after it. */
  services: Service[];
  frameHandler: FrameHandler;
  /** True for a lone broker, which is its own controller (streambus_raft_leader 1 once ready); a cluster broker's controller group sets the gauge. */
  soloController: boolean;
  /** Told READY=1 / STOPPING=1 (systemd notify); a no-op outside systemd. */
  notify(state: string): void;
  /** The admin API on the HTTP port (admin-api.ts). */
  admin?: AdminApi;
  /** TLS for the Kafka and HTTP listeners (security.tls); plaintext when absent. */
  tls?: ServerTls;
  /** SASL with JWTs (security.authentication.method jwt): also accepted as bearer tokens by the admin API. */
  sasl?: SaslAuthenticator | null;
}

export interface BoundPorts {
  kafka: number;
  http: number;
}

export class BrokerApp {
  private phase: 'new' | 'starting' | 'ready' | 'stopping' | 'stopped' = 'new';
  private startingStep = 'starting';
  private readonly http: HttpServer;
  private readonly listener: KafkaListener;
  private started: Service[] = [];
  private starting: Service | null = null;

  constructor(private readonly parts: BrokerParts) {
    const { config, log, metrics } = parts;
    this.http = new HttpServer(
      {
        host: config.server.host,
        port: config.server.httpPort,
        livenessPath: config.health.livenessPath,
        readinessPath: config.health.readinessPath,
        metricsPath: config.metrics.path,
        healthEnabled: config.health.enabled,
        metricsEnabled: config.metrics.enabled,
        ...(parts.tls === undefined ? {} : { tls: parts.tls, plainProbes: config.security.tls.plainHttpProbes }),
        authenticateAdmin: config.security.authentication.enabled,
        metricsNeedAuthentication: config.metrics.requireAuthentication,
        healthNeedsAuthentication: config.health.requireAuthentication,
        ...(parts.sasl ? { bearer: (token: string) => parts.sasl!.bearerPrincipal(token) } : {}),
        ...(parts.admin?.basic === undefined ? {} : { basic: parts.admin.basic }),
      },
      metrics,
      this,
      log,
      parts.admin?.routes ?? [],
    );
    this.listener = new KafkaListener(
      {
        host: config.server.host,
        port: config.server.port,
        maxConnections: config.server.maxConnections,
        maxFrameBytes: config.kafka.maxFrameBytes,
        maxInFlight: config.kafka.maxInFlightRequestsPerConnection,
        maxBufferedBytes: Math.max(config.kafka.maxBufferedBytesPerConnection, config.kafka.maxFrameBytes),
        ...(parts.tls === undefined ? {} : { tls: parts.tls }),
      },
      parts.frameHandler,
      log,
    );
  }

  notReadyReason(): string | null {
    switch (this.phase) {
      case 'ready':
        return null;
      case 'starting':
        return this.startingStep;
      default:
        return this.phase;
    }
  }

  async start(): Promise<BoundPorts> {
    this.phase = 'starting';
    const { log } = this.parts;
    const http = await this.http.start();
    log.info({ port: http }, 'http listening');
    for (const service of this.parts.services) {
      this.startingStep = `starting ${service.name}`;
      const t0 = performance.now();
      this.starting = service;
      try {
        await service.start();
      } finally {
        this.starting = null;
      }
      this.started.push(service);
      log.info({ service: service.name, ms: Math.round(performance.now() - t0) }, 'service started');
    }
    this.startingStep = 'starting kafka listener';
    const kafka = await this.listener.start();
    this.parts.admin?.listening(kafka);
    this.phase = 'ready';
    this.parts.metrics.brokerUp.set(1);
    if (this.parts.soloController) this.parts.metrics.raftLeader.set(1);
    this.parts.notify('READY=1');
    log.info({ kafkaPort: kafka, httpPort: http }, 'broker ready');
    return { kafka, http };
  }

  /** True once a stop began (a start that fails after it was aborted, not broken). */
  get stopRequested(): boolean {
    return this.phase === 'stopping' || this.phase === 'stopped';
  }

  /** Graceful stop. Safe to call more than once; later calls wait for the first. */
  async stop(): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    this.phase = 'stopping';
    this.starting?.abortStart?.();
    const { log } = this.parts;
    this.parts.metrics.brokerUp.set(0);
    this.parts.metrics.raftLeader.set(0);
    this.parts.notify('STOPPING=1');
    this.parts.admin?.listening(null);
    log.info('broker stopping');
    for (const service of this.started) service.quiesce?.();
    await this.listener.stop();
    for (const service of this.started.reverse()) {
      // Each step said with its time: a stop that runs into server.shutdownTimeout shows where it hung.
      const began = performance.now();
      log.info({ service: service.name }, 'stopping service');
      try {
        await service.stop();
        log.info({ service: service.name, ms: Math.round(performance.now() - began) }, 'service stopped');
      } catch (err) {
        log.error({ err, service: service.name }, 'service failed to stop cleanly');
      }
    }
    this.started = [];
    await this.http.stop();
    this.phase = 'stopped';
    log.info('broker stopped');
  }
}
