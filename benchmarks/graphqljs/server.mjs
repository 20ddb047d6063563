// A graphql-js baseline for the app's HomeScreen query, for benchmarks/compare_graphqljs.py.
//
// The same aggregation as the Python BFF (bff/graphql/customer/types.py and
// bff/channels/*.py) over the same simulators, with just the schema the
// HomeScreen query touches: `me { profile accounts cards loans wealth
// unreadMessageCount }` and `contentFeed`. Plain node:http in front, the
// built-in fetch (undici) behind, one process.
//
// Deliberately left out (see the report in compare_graphqljs.py's docstring):
// dc-b and failover, retries, circuit breakers, bulkheads, per-call deadlines
// beyond a plain timeout, metrics, logs, trusted-document checks, query
// depth/complexity limits.
//
//   node server.mjs --topology sim-endpoints.json --jwks jwks.json --audience AUD [--port 8080] [--client fetch|http]
//   (or TOPOLOGY_FILE, JWKS_FILE, PORT, JWT_ISSUER, JWT_AUDIENCE, DOWNSTREAM_CLIENT in the environment)
//
// --client fetch (the default) calls the services with the built-in fetch
// (undici); --client http with node:http.request over a keep-alive Agent,
// which costs less CPU per call in Node 20.

import { randomUUID, createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, createServer, request as httpRequest } from "node:http";
import { parseArgs } from "node:util";

import { XMLParser } from "fast-xml-parser";
import { buildSchema, execute, GraphQLError, parse, validate } from "graphql";

const { values: argv } = parseArgs({
  options: {
    topology: { type: "string", default: process.env.TOPOLOGY_FILE },
    jwks: { type: "string", default: process.env.JWKS_FILE },
    port: { type: "string", default: process.env.PORT ?? "8080" },
    issuer: { type: "string", default: process.env.JWT_ISSUER ?? "https://issuer.dev.bff.local" },
    audience: { type: "string", default: process.env.JWT_AUDIENCE },
    client: { type: "string", default: process.env.DOWNSTREAM_CLIENT ?? "fetch" },
  },
});
if (!argv.topology || !argv.jwks || !argv.audience || !["fetch", "http"].includes(argv.client)) {
  console.error("usage: node server.mjs --topology FILE --jwks FILE --audience AUD [--issuer ISS] [--port N] [--client fetch|http]");
  process.exit(2);
}

// ---------------------------------------------------------------- schema

// Copied from schemas/bff.graphql, trimmed to what the HomeScreen query reads
// (types keep their full field lists where cheap, so the document validates alike).
const schema = buildSchema(`
  scalar Date
  scalar DateTime
  scalar Decimal

  type Query {
    me: Customer!
    contentFeed(first: Int! = 10, after: String = null): ContentItemConnection
  }
  type Customer {
    id: ID!
    memberBank: String!
    profile: CustomerProfile
    accounts: [Account!]
    cards: [Card!]
    loans(first: Int! = 10, after: String = null): LoanConnection
    wealth: WealthSummary
    unreadMessageCount: Int
  }
  type CustomerProfile {
    name: String!
    age: Int!
    regionType: String!
    assetsTier: String!
    preferredLanguage: String!
    maskedPhone: String!
    customerSince: Date!
  }
  type Money { amount: Decimal! currency: String! }
  enum AccountKind { CURRENT SAVINGS FIXED_DEPOSIT }
  type Account {
    id: ID!
    name: String!
    kind: AccountKind!
    maskedNumber: String!
    balance: Money!
    available: Money!
    openedOn: Date!
    status: String!
  }
  enum CardKind { DEBIT CREDIT }
  type Card {
    id: ID!
    kind: CardKind!
    productName: String!
    maskedNumber: String!
    status: String!
    creditLimit: Money
    outstanding: Money
  }
  type PageInfo { hasNextPage: Boolean! endCursor: String hasPreviousPage: Boolean! startCursor: String }
  type Loan {
    id: ID!
    product: String!
    principal: Money!
    outstanding: Money!
    annualRate: Decimal!
    nextPaymentDue: Date
    nextPayment: Money
    status: String!
  }
  type LoanEdge { node: Loan! cursor: String! }
  type LoanConnection { edges: [LoanEdge!]! pageInfo: PageInfo! totalCount: Int nodes: [Loan!]! }
  type WealthSummary { total: Money! asOf: Date! }
  enum ContentKind { SHORT_VIDEO LIVE_STREAM BANNER }
  type ContentItem {
    id: ID!
    kind: ContentKind!
    title: String!
    imageUrl: String!
    mediaUrl: String
    linkUrl: String
    durationSeconds: Int
    startsAt: DateTime
    endsAt: DateTime
    liveStatus: String
    isMarketing: Boolean!
  }
  type ContentItemEdge { node: ContentItem! cursor: String! }
  type ContentItemConnection { edges: [ContentItemEdge!]! pageInfo: PageInfo! totalCount: Int nodes: [ContentItem!]! }
`);

// ---------------------------------------------------------------- downstream

const topology = JSON.parse(readFileSync(argv.topology, "utf8"));
const url = (service) => topology.services[service]["dc-a"]; // dc-a only: no failover
// Per-call timeouts of bff/channels/services.toml.
const TIMEOUT_MS = { core_banking: 800, cards: 800, loans: 800, wealth: 1200, content: 600, messages: 800, crm: 600 };
const SCOPES = { cards: "cards.read", crm: "crm.read" };

class ChannelError extends Error {}

/** OAuth 2.0 client credentials, one cached token per scope, refreshed 30 s before expiry. */
class ClientCredentials {
  #token = null;
  #expiresAt = 0;
  #pending = null;
  constructor(scope) {
    this.scope = scope;
  }
  get() {
    if (this.#token !== null && performance.now() < this.#expiresAt) return this.#token;
    this.#pending ??= this.#fetch().finally(() => (this.#pending = null));
    return this.#pending;
  }
  invalidate(token) {
    if (this.#token === token) this.#token = null;
  }
  async #fetch() {
    const response = await fetch(topology.oauth_token_url, {
      method: "POST",
      headers: {
        Authorization: "Basic " + Buffer.from("bff:bff-dev-secret").toString("base64"),
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ grant_type: "client_credentials", scope: this.scope }),
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) throw new ChannelError(`token endpoint: HTTP ${response.status}`);
    const issued = await response.json();
    this.#token = String(issued.access_token);
    this.#expiresAt = performance.now() + Math.max(1, (issued.expires_in ?? 300) - 30) * 1000;
    return this.#token;
  }
}
const tokens = Object.fromEntries(Object.entries(SCOPES).map(([service, scope]) => [service, new ClientCredentials(scope)]));

/** One downstream call from dc-a; returns the status and the body text, and records its duration. */
async function call(ctx, service, path, { method = "GET", headers = {}, body } = {}) {
  const started = performance.now();
  const sendHeaders = { "X-Request-ID": ctx.requestId, ...headers };
  const credentials = tokens[service];
  let bearer = null;
  if (credentials) {
    bearer = await credentials.get();
    sendHeaders.Authorization = `Bearer ${bearer}`;
  }
  const reply = await exchange(url(service) + path, method, sendHeaders, body, TIMEOUT_MS[service]);
  ctx.downstreamMs = Math.max(ctx.downstreamMs, performance.now() - started);
  if (reply.status === 401 && credentials) credentials.invalidate(bearer);
  if (reply.status >= 500) throw new ChannelError(`${service}: HTTP ${reply.status}`);
  return reply;
}

const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });

/** One HTTP exchange with fetch or node:http, as --client says: { status, text }. */
async function exchange(target, method, headers, body, timeoutMs) {
  if (argv.client === "fetch") {
    const response = await fetch(target, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, text: await response.text() };
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(target, { method, headers, agent, timeout: timeoutMs }, (res) => {
      res.setEncoding("utf8");
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new ChannelError(`timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

function json(service, reply) {
  const body = JSON.parse(reply.text);
  if (reply.status >= 400) throw new ChannelError(`${service}: HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
  return body;
}

// ---------------------------------------------------------------- money and ids

const FEN = /^-?[0-9]{1,18}$/;
const DECIMAL = /^-?[0-9]{1,18}(\.[0-9]{1,8})?$/;
const CURRENCY = /^[A-Z]{3}$/;

function currency(code) {
  if (typeof code !== "string" || !CURRENCY.test(code)) throw new ChannelError(`currency ${code} is not ISO 4217`);
  return code;
}
/** Integer fen as text ("12345") to yuan with two decimals ("123.45"), like Decimal(fen).scaleb(-2). */
function moneyFromFen(fen, ccy) {
  if (!FEN.test(fen)) throw new ChannelError(`amount ${fen} is not an integer number of fen`);
  const negative = fen.startsWith("-");
  const digits = (negative ? fen.slice(1) : fen).padStart(3, "0");
  const amount = `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
  return { amount, currency: currency(ccy) };
}
function moneyFromText(amount, ccy) {
  if (typeof amount !== "string" || !DECIMAL.test(amount)) throw new ChannelError(`${amount} is not a decimal string`);
  return { amount, currency: currency(ccy) };
}
/** A JSON number in yuan, rounded to cents (JSON.parse reads it as a double; Python reads Decimal). */
function moneyFromNumber(amount, ccy) {
  if (typeof amount !== "number" || !Number.isFinite(amount)) throw new ChannelError(`amount ${amount} is not a number`);
  return { amount: amount.toFixed(2), currency: currency(ccy) };
}
const globalId = (type, key) => Buffer.from(`${type}:${key}`).toString("base64url");
const cursor = (downstream, skip) => Buffer.from(`c1:${skip}:${downstream ?? ""}`).toString("base64");

// ---------------------------------------------------------------- adapters (dc-a only)

const REGIONS = { URBAN: "urban", RURAL: "rural" };
const TIERS = { MASS: "mass", AFFLUENT: "affluent", PRIVATE: "private" };
const ACCOUNT_KINDS = { CUR: "CURRENT", SAV: "SAVINGS", FIX: "FIXED_DEPOSIT" };
const ACCOUNT_STATUSES = { A: "active", D: "dormant", F: "frozen", C: "closed" };
const CARD_KINDS = { DEBIT: "DEBIT", CREDIT: "CREDIT" };
const CONTENT_KINDS = { short_video: "SHORT_VIDEO", live_stream: "LIVE_STREAM", banner: "BANNER" };
const xml = new XMLParser({ parseTagValue: false, isArray: (name) => name === "Acct" });
const escapeXml = (text) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const isoDate = (yyyymmdd) => `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;

const adapters = {
  async profile(ctx, { customerId, memberBank }) {
    const reply = await call(ctx, "crm", `/v1/customers/${encodeURIComponent(customerId)}`, {
      headers: { "X-Member-Bank": memberBank },
    });
    const raw = json("crm", reply);
    const phone = String(raw.mobile);
    return {
      name: String(raw.fullName),
      age: Number(raw.age),
      regionType: REGIONS[raw.regionType],
      assetsTier: TIERS[raw.assetsTier],
      preferredLanguage: String(raw.preferredLanguage),
      maskedPhone: phone.length >= 7 ? `${phone.slice(0, 3)}****${phone.slice(-4)}` : "****",
      customerSince: String(raw.customerSince),
    };
  },

  async accounts(ctx, { customerId, memberBank }) {
    const envelope =
      "<?xml version='1.0' encoding='utf-8'?>\n<Request><Header><TxnCode>ACCT_LIST</TxnCode>" +
      `<MemberBank>${escapeXml(memberBank)}</MemberBank><CustomerId>${escapeXml(customerId)}</CustomerId>` +
      `<RequestId>${ctx.requestId}</RequestId></Header><Body /></Request>`;
    const reply = await call(ctx, "core_banking", "/corebanking/gateway", {
      method: "POST",
      headers: { "Content-Type": "text/xml; charset=utf-8" },
      body: envelope,
    });
    if (reply.text.includes("<!DOCTYPE") || reply.text.includes("<!ENTITY")) throw new ChannelError("DTD refused");
    const root = xml.parse(reply.text).Response;
    if (!root) throw new ChannelError("expected a <Response> envelope");
    const code = String(root.Header?.RetCode ?? "");
    if (code !== "0000") throw new ChannelError(`core_banking: ${code} ${root.Header?.RetMsg ?? ""}`);
    return (root.Body?.AcctList?.Acct ?? []).map((acct) => {
      const number = String(acct.AcctNo);
      return {
        id: globalId("Account", acct.AcctId),
        name: acct.AcctName,
        kind: ACCOUNT_KINDS[acct.AcctType],
        maskedNumber: number.length > 4 ? `**** ${number.slice(-4)}` : "****",
        balance: moneyFromFen(acct.LedgerBal, acct.Ccy),
        available: moneyFromFen(acct.AvailBal, acct.Ccy),
        openedOn: isoDate(acct.OpenDate),
        status: ACCOUNT_STATUSES[acct.Status],
      };
    });
  },

  async cards(ctx, { customerId, memberBank }) {
    const reply = await call(ctx, "cards", `/v2/customers/${encodeURIComponent(customerId)}/cards`, {
      headers: { "X-Member-Bank": memberBank },
    });
    const maybe = (money) => (money == null ? null : moneyFromText(money.amount, money.currency));
    return json("cards", reply).data.map((raw) => ({
      id: globalId("Card", raw.cardId),
      kind: CARD_KINDS[raw.type],
      productName: String(raw.productName),
      maskedNumber: String(raw.maskedPan),
      status: String(raw.status).toLowerCase(),
      creditLimit: maybe(raw.creditLimit),
      outstanding: maybe(raw.outstandingBalance),
    }));
  },

  async loans(ctx, { customerId, memberBank }, first) {
    const query = new URLSearchParams({ customer_id: customerId, member_bank: memberBank, offset: "0", limit: String(Math.max(1, Math.min(first, 100))) });
    const body = json("loans", await call(ctx, "loans", `/api/loans?${query}`));
    const nodes = body.items.map((raw) => ({
      id: globalId("Loan", raw.loan_id),
      product: String(raw.product_type),
      principal: moneyFromNumber(raw.principal, raw.currency),
      outstanding: moneyFromNumber(raw.outstanding_principal, raw.currency),
      annualRate: String(raw.interest_rate_pct / 100),
      nextPaymentDue: raw.next_due_date ?? null,
      nextPayment: raw.next_installment_amount == null ? null : moneyFromNumber(raw.next_installment_amount, raw.currency),
      status: String(raw.status),
    }));
    const next = body.offset + nodes.length < body.total ? String(body.offset + nodes.length) : null;
    return connection(nodes, next, body.total);
  },

  async wealth(ctx, { customerId, memberBank }) {
    const query = new URLSearchParams({ customerId, memberBank });
    const body = json("wealth", await call(ctx, "wealth", `/wealth/v1/holdings?${query}`));
    if (body.code !== "OK") throw new ChannelError(`wealth: ${body.code}`);
    return { total: moneyFromText(body.data.totalMarketValue, body.data.currency), asOf: body.data.asOf };
  },

  async threads(ctx, { customerId, memberBank }) {
    const query = new URLSearchParams({ customerId, memberBank });
    return json("messages", await call(ctx, "messages", `/msg/v1/threads?${query}`)).threads;
  },

  async feed(ctx, memberBank, first) {
    const query = new URLSearchParams({ memberBank, limit: String(Math.min(first, 50)) });
    const body = json("content", await call(ctx, "content", `/content/v1/feed?${query}`));
    const nodes = body.data.map((raw) => {
      if (!(raw.kind in CONTENT_KINDS)) throw new ChannelError(`unknown content kind ${raw.kind}`);
      return {
        id: globalId("ContentItem", raw.id),
        kind: CONTENT_KINDS[raw.kind],
        title: String(raw.title),
        imageUrl: String(raw.imageUrl),
        mediaUrl: raw.mediaUrl ?? null,
        linkUrl: raw.linkUrl ?? null,
        durationSeconds: raw.durationSeconds ?? null,
        startsAt: raw.startsAt ?? null,
        endsAt: raw.endsAt ?? null,
        liveStatus: raw.liveStatus == null ? null : raw.liveStatus.toLowerCase(),
        isMarketing: Boolean(raw.marketing),
      };
    });
    return connection(nodes, body.paging.hasMore ? body.paging.nextCursor : null, null);
  },
};

/** A Relay connection built eagerly, as bff/graphql/relay.py's paginate does. */
function connection(nodes, nextCursor, total) {
  const edges = nodes.map((node, i) => ({ node, cursor: cursor(null, i + 1) }));
  if (edges.length && nextCursor !== null) edges[edges.length - 1].cursor = cursor(nextCursor, 0);
  return {
    edges,
    nodes,
    totalCount: total,
    pageInfo: { hasNextPage: nextCursor !== null, endCursor: edges.at(-1)?.cursor ?? null, hasPreviousPage: false },
  };
}

// ---------------------------------------------------------------- resolvers

/** Per-request dedupe: one promise per (loader, key), like a DataLoader without batching. */
function load(ctx, name, key, fetch) {
  const id = `${name}:${key}`;
  let found = ctx.loaded.get(id);
  if (found === undefined) {
    found = fetch();
    ctx.loaded.set(id, found);
  }
  return found;
}

// graphql-js's default resolver calls a method of the parent object with (args, context).
class Customer {
  constructor(scope) {
    this.scope = scope;
    this.id = globalId("Customer", scope.customerId);
    this.memberBank = scope.memberBank;
  }
  profile(_, ctx) {
    return load(ctx, "profile", this.scope.customerId, () => adapters.profile(ctx, this.scope));
  }
  accounts(_, ctx) {
    return load(ctx, "accounts", this.scope.customerId, () => adapters.accounts(ctx, this.scope));
  }
  cards(_, ctx) {
    return load(ctx, "cards", this.scope.customerId, () => adapters.cards(ctx, this.scope));
  }
  loans({ first }, ctx) {
    return adapters.loans(ctx, this.scope, first);
  }
  wealth(_, ctx) {
    return load(ctx, "wealth", this.scope.customerId, () => adapters.wealth(ctx, this.scope));
  }
  async unreadMessageCount(_, ctx) {
    const threads = await load(ctx, "threads", this.scope.customerId, () => adapters.threads(ctx, this.scope));
    return threads.reduce((sum, thread) => sum + Number(thread.unreadCount), 0);
  }
}

const rootValue = {
  me: (_, ctx) => new Customer(ctx.scope),
  contentFeed: ({ first }, ctx) => adapters.feed(ctx, ctx.scope.memberBank, first),
};

// ---------------------------------------------------------------- bearer tokens (ES256, cached like the BFF)

const jwks = JSON.parse(readFileSync(argv.jwks, "utf8"));
const keys = new Map(jwks.keys.filter((k) => k.kty === "EC").map((k) => [k.kid, createPublicKey({ key: k, format: "jwk" })]));
const verified = new Map(); // raw token -> scope, until it expires
const LEEWAY_S = 30;

function authenticate(header) {
  if (!header?.startsWith("Bearer ")) return null;
  const raw = header.slice(7);
  const now = Date.now() / 1000;
  const cached = verified.get(raw);
  if (cached !== undefined && cached.exp + LEEWAY_S > now) return cached;
  const [head, payload, signature] = raw.split(".");
  if (!signature) return null;
  const header_ = JSON.parse(Buffer.from(head, "base64url"));
  const key = keys.get(header_.kid);
  if (header_.alg !== "ES256" || !key) return null;
  const ok = verify("sha256", Buffer.from(`${head}.${payload}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
  if (!ok) return null;
  const claims = JSON.parse(Buffer.from(payload, "base64url"));
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== argv.issuer || !audiences.includes(argv.audience)) return null;
  if (claims.exp + LEEWAY_S < now || (claims.nbf ?? 0) - LEEWAY_S > now || !claims.member_bank) return null;
  const scope = { customerId: String(claims.sub), memberBank: String(claims.member_bank), exp: claims.exp };
  if (verified.size >= 10_000) verified.delete(verified.keys().next().value);
  verified.set(raw, scope);
  return scope;
}

// ---------------------------------------------------------------- HTTP

const documents = new Map(); // query text -> parsed and validated document (or its errors)
const MAX_DOCUMENTS = 1000;

function documentFor(query) {
  let found = documents.get(query);
  if (found === undefined) {
    try {
      const document = parse(query);
      const errors = validate(schema, document);
      found = errors.length ? { errors } : { document };
    } catch (error) {
      found = { errors: [error instanceof GraphQLError ? error : new GraphQLError(String(error))] };
    }
    if (documents.size < MAX_DOCUMENTS) documents.set(query, found);
  }
  return found;
}

function send(res, status, payload, headers = {}) {
  const body = JSON.stringify(payload);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

async function handle(req, res) {
  if (req.method === "GET" && req.url === "/readyz") return send(res, 200, { status: "ready" });
  if (req.method !== "POST" || req.url !== "/graphql") return send(res, 404, { error: "not found" });
  const started = performance.now();
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const scope = authenticate(req.headers.authorization);
  if (scope === null) return send(res, 401, { errors: [{ message: "a valid bearer token is required" }] });
  let request;
  try {
    request = JSON.parse(Buffer.concat(chunks));
  } catch {
    return send(res, 400, { errors: [{ message: "the body is not JSON" }] });
  }
  const { document, errors } = documentFor(String(request.query ?? ""));
  if (errors) return send(res, 400, { errors: errors.map((e) => e.toJSON()) });
  const ctx = { scope, requestId: req.headers["x-request-id"] ?? randomUUID(), loaded: new Map(), downstreamMs: 0 };
  const result = await execute({
    schema,
    document,
    rootValue,
    contextValue: ctx,
    variableValues: request.variables,
    operationName: request.operationName,
  });
  const timing = `downstream;dur=${ctx.downstreamMs.toFixed(2)}, bff;dur=${(performance.now() - started).toFixed(2)}`;
  send(res, 200, result, { "Server-Timing": timing });
}

const server = createServer({ keepAliveTimeout: 75_000 }, (req, res) => {
  handle(req, res).catch((error) => {
    console.error(error);
    if (!res.headersSent) send(res, 500, { errors: [{ message: "internal error" }] });
  });
});
server.listen(Number(argv.port), "127.0.0.1", () => console.log(`graphql-js HomeScreen server on :${server.address().port}`));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
