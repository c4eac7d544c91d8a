/**
 * The enrichment seam (DESIGN.md "Resolver"): who is behind an ip:port. Kubernetes informers
 * feed one implementation, /proc socket tables feed the local one (local.ts), snapshots freeze
 * one. This folder never imports kube/: a resolver is handed in.
 */
import type { Endpoint } from '../entry/model.ts';

/** What enrichment adds to an Endpoint: every identity field of it, nothing of the address. */
export type Identity = Pick<
  Endpoint,
  | 'name'
  | 'namespace'
  | 'pod'
  | 'service'
  | 'labels'
  | 'annotations'
  | 'process'
  | 'containerId'
  | 'node'
>;

export interface Resolver {
  /**
   * Identity of the endpoint `ip:port` over `transport` as it was at `tsUs` (µs since the
   * epoch; lets a resolver with history tell apart two processes that used the same port one
   * after the other). Undefined when unknown. Never throws. The identity may be shared by many
   * answers: callers copy, never modify it (enrichEntry copies).
   */
  lookup(ip: string, port: number, transport: 'tcp' | 'udp', tsUs: number): Identity | undefined;
  /**
   * Why `lookup` found nothing (`not_found`, `not_synced`…), for the KFL resolution status
   * fields; optional ('unresolved' is shown without it).
   */
  status?(ip: string, port: number, transport: 'tcp' | 'udp', tsUs: number): string;
}
