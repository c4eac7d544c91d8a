/** Counting entries the way tshark's oracle counts PDUs (requests, responses, queries, frames). */

export type Counts = {
  httpRequests: number;
  httpResponses: number;
  dnsQueries: number;
  dnsResponses: number;
  wsFrames: number;
};

/** The parts of an entry's JSON view these counts read. */
interface CountedView {
  http?: boolean;
  dns?: boolean;
  ws?: boolean;
  method?: string;
  dns_request?: boolean;
  dns_response?: boolean;
  request?: { retransmissions?: number; frames?: number };
  response?: { informational?: unknown[]; frames?: number };
}

export function countCalls(views: Record<string, unknown>[]): Counts {
  const c: Counts = {
    httpRequests: 0,
    httpResponses: 0,
    dnsQueries: 0,
    dnsResponses: 0,
    wsFrames: 0,
  };
  for (const v of views as CountedView[]) {
    if (v.http) {
      if (v.method) c.httpRequests++;
      if (v.response) c.httpResponses += 1 + (v.response.informational?.length ?? 0);
    } else if (v.dns) {
      if (v.dns_request) c.dnsQueries += 1 + (v.request?.retransmissions ?? 0);
      if (v.dns_response) c.dnsResponses++;
    } else if (v.ws) {
      c.wsFrames += (v.request ?? v.response)?.frames ?? 0;
    }
  }
  return c;
}
