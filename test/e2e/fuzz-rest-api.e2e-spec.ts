import fc from 'fast-check';
import { createSessions, readLog, useFaultCluster } from './fault-support';

// Property-based fuzzing of the REST API from its own OpenAPI document, against two API nodes:
// every answer is a 2xx or a 4xx problem+json (never a 5xx or a hang), and the log changes only
// by messages accepted with a 2xx. FUZZ_RUNS scales the cases (`npm run fuzz`), FUZZ_SEED replays
// (fast-check prints the seed of a failing run).
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  $ref?: string;
}
interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom('\u0000', 'a\u0000b', '../../etc/passwd', '%00', '%', '😀'.repeat(40), ' ', ''),
  fc.string({ minLength: 1000, maxLength: 70_000 }).map((s) => s.slice(0, 70_000)),
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(-1, 0, 2 ** 53, 2 ** 64, 1e308, -0, 1.5),
  fc.double(),
);

function fromSchema(schema: Schema, doc: OpenApi, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref)
    return fromSchema(doc.components.schemas[schema.$ref.split('/').at(-1)!], doc, depth);
  if (schema.enum) return fc.oneof(fc.constantFrom(...schema.enum), hostileString);
  const near = fc.oneof(hostileString, hostileNumber, fc.constant(null), fc.boolean());
  switch (schema.type) {
    case 'string':
      // Mostly values a valid request could carry (ids, content), else anything.
      return fc.oneof(
        { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/) },
        { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
        near,
      );
    case 'integer':
    case 'number':
      return fc.oneof({ weight: 3, arbitrary: fc.nat(300) }, near);
    case 'array':
      return depth > 3
        ? fc.constant([])
        : fc.array(fromSchema(schema.items ?? {}, doc, depth + 1), { maxLength: 3 });
    case 'object': {
      if (depth > 3 || !schema.properties)
        return fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 });
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(schema.properties))
        model[name] = fromSchema(property, doc, depth + 1);
      // Mostly every property (near-valid), sometimes any subset.
      return fc.oneof(
        { weight: 3, arbitrary: fc.record(model) },
        fc.record(model, { requiredKeys: [] }),
      );
    }
    default:
      return fc.jsonValue();
  }
}

const deepNesting = fc.integer({ min: 100, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
const duplicateKeys = fc.constant('{"content":"a","content":"b","content":{"x":1}}');

describe('Fuzz: the REST API from its OpenAPI document', () => {
  const suite = useFaultCluster({
    apiNodes: 2,
    workers: 0,
    env: { MAX_MESSAGES_PER_SESSION_PER_MINUTE: '100000' },
  });

  it(
    `answers ${RUNS} generated requests with a 2xx or a 4xx problem+json and appends only what it accepted`,
    async () => {
      const c = suite.cluster;
      const doc = (await (await fetch(`${c.apiUrls[0]}/openapi.json`)).json()) as OpenApi;
      const sessionIds = await createSessions(c.url, 3);
      const before = new Map<string, number>();
      for (const id of sessionIds) before.set(id, (await readLog(suite.db, id)).length);
      const accepted = new Map<string, number>(sessionIds.map((id) => [id, 0]));
      const statuses = new Set<number>();
      const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.entries(methods)
          // The stream is fuzzed by the SSE tests; end and interrupt would change the log by design.
          .filter(([method]) => ['get', 'post', 'put', 'delete', 'patch'].includes(method))
          .filter(() => !path.endsWith('/stream') && !/\/(end|interrupt)$/.test(path))
          .map(([method, op]) => ({ path, method, op })),
      );
      expect(operations.length).toBeGreaterThan(5);
      const request = fc
        .record({
          operation: fc.constantFrom(...operations),
          node: fc.nat(1),
          id: fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom(...sessionIds) },
            hostileString,
            fc.uuid(),
          ),
          query: fc.dictionary(
            fc.constantFrom('after', 'before', 'limit', 'state', 'cursor', 'x'),
            fc.oneof(hostileString, fc.nat(2000).map(String)),
            { maxKeys: 3 },
          ),
          body: fc.option(
            fc.oneof(
              { weight: 6, arbitrary: fc.constant('schema') },
              fc.jsonValue().map((v) => JSON.stringify(v)),
              deepNesting,
              duplicateKeys,
              hostileString,
            ),
            { nil: undefined },
          ),
          schemaBody: fc.constant(undefined),
          contentType: fc.oneof(
            { weight: 6, arbitrary: fc.constant('application/json') },
            fc.constantFrom(
              'application/json; charset=utf-8',
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/merge-patch+json',
              undefined,
            ),
          ),
          headerJunk: fc.option(
            fc.string({ minLength: 1, maxLength: 20_000, unit: fc.constantFrom('a', 'b', '%') }),
            { nil: undefined },
          ),
          method: fc.option(fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS'), {
            freq: 10,
            nil: undefined,
          }),
        })
        // One case in five is a well-formed message to a session (near-valid only in its values).
        .chain((r) =>
          fc.tuple(fc.nat(4), fc.constantFrom(...sessionIds)).map(([pick, id]) =>
            pick > 0
              ? r
              : {
                  ...r,
                  operation: operations.find((o) => o.path.endsWith('/messages'))!,
                  id,
                  method: undefined,
                  body: 'schema',
                  contentType: 'application/json',
                  headerJunk: undefined,
                },
          ),
        )
        .chain((r) => {
          const schema = r.operation.op.requestBody?.content['application/json']?.schema;
          return (schema ? fromSchema(schema, doc) : fc.jsonValue()).map((value) => ({
            ...r,
            schemaBody: value,
          }));
        });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const path = r.operation.path.replace('{id}', encodeURIComponent(r.id));
          const query = new URLSearchParams(r.query).toString();
          const url = `${c.apiUrls[r.node]}${path}${query ? `?${query}` : ''}`;
          const method = r.method ?? r.operation.method.toUpperCase();
          const headers: Record<string, string> = {};
          if (r.contentType) headers['content-type'] = r.contentType;
          if (r.headerJunk) headers['x-junk'] = r.headerJunk;
          const body =
            method === 'GET' || method === 'OPTIONS' || r.body === undefined
              ? undefined
              : r.body === 'schema'
                ? JSON.stringify(r.schemaBody)
                : r.body;
          const response = await fetch(url, {
            method,
            headers,
            body,
            signal: AbortSignal.timeout(10_000),
          });
          const text = await response.text();
          statuses.add(Math.floor(response.status / 100));
          const type = response.headers.get('content-type') ?? '';
          expect({
            status: response.status,
            lt500: response.status < 500,
            url,
            method,
          }).toMatchObject({ lt500: true });
          if (response.status >= 400) expect(type).toMatch(/^application\/problem\+json/);
          if (
            response.status === 202 &&
            method === 'POST' &&
            r.operation.path.endsWith('/messages') &&
            accepted.has(r.id) &&
            !(JSON.parse(text) as { duplicate?: boolean }).duplicate
          ) {
            accepted.set(r.id, accepted.get(r.id)! + 1);
          }
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      // The run reached both the handlers and the refusals, and some messages were taken.
      expect([...statuses].sort()).toEqual([2, 4]);
      expect([...accepted.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      for (const id of sessionIds) {
        const log = await readLog(suite.db, id);
        expect({ id, appended: log.length - before.get(id)! }).toEqual({
          id,
          appended: accepted.get(id),
        });
        expect(log.slice(before.get(id)!).every((e) => e.type === 'message.user')).toBe(true);
      }
    },
    60_000 + RUNS * 200,
  );
});
