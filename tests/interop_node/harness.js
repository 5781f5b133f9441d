// jaeger-client for Node (3.19, with its own Thrift stack, thriftrw, which reads and
// writes binary Thrift only) as an independent peer
// for tests/test_interop_node.py. Installed by scripts/setup-interop into .interop/node.
//
// One JSON request per stdin line, one JSON answer per stdout line:
//   {"cmd": "decode_batch", "body": base64, "idl": "node"|"ours"}  a binary Batch (HTTP body)
//   {"cmd": "emit", ...}          spans made by jaeger-client's tracer, sent by its own sender
//   {"cmd": "inject", ...} / {"cmd": "extract", ...}                uber-trace-id propagation
// 64-bit values travel as 16-digit hex (JSON numbers cannot hold them); doubles that JSON
// cannot hold (NaN, Infinity) as {"$double": "NaN"}; binary as {"$bytes": hex}.
'use strict';

const path = require('path');
const fs = require('fs');
const readline = require('readline');

const root = process.env.JAEGER_LITE_NODE_MODULES;
const req = (name) => require(path.join(root, name));
const jaeger = req('jaeger-client');
const opentracing = jaeger.opentracing;
const { Thrift } = req('thriftrw');

const idlDir = path.join(root, 'jaeger-client', 'dist', 'src', 'jaeger-idl', 'thrift');
const nodeThrift = new Thrift({
  entryPoint: path.join(idlDir, 'jaeger.thrift'),
  allowFilesystemAccess: true,
  allowOptionalArguments: true,
});
let oursThrift = null;
function ours() {
  if (oursThrift === null) {
    oursThrift = new Thrift({
      source: fs.readFileSync(process.env.JAEGER_LITE_IDL, 'ascii'),
      allowOptionalArguments: true,
    });
  }
  return oursThrift;
}

// -- decoding -------------------------------------------------------------------------------

function plain(value) {
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'number' && !Number.isFinite(value)) return { $double: String(value) };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value)) {
      if (value[key] !== null && value[key] !== undefined) out[key] = plain(value[key]);
    }
    return out;
  }
  return value;
}

function tagValue(tag) {
  // vBinary is a Buffer like the i64s: mark it so Python can tell it from an id.
  const out = plain(tag);
  if (tag.vBinary !== null && tag.vBinary !== undefined) out.vBinary = { $bytes: tag.vBinary.toString('hex') };
  return out;
}

function batchJson(batch) {
  const out = plain(batch);
  const fixTags = (tags) => (tags ? tags.map(tagValue) : tags);
  if (batch.process) out.process.tags = fixTags(batch.process.tags);
  out.spans = (batch.spans || []).map((span, i) => {
    const s = out.spans[i];
    s.tags = fixTags(span.tags);
    if (span.logs) s.logs = span.logs.map((log, j) => ({ timestamp: s.logs[j].timestamp, fields: fixTags(log.fields) }));
    return s;
  });
  return out;
}

function decodeBatch(msg) {
  const thrift = msg.idl === 'ours' ? ours() : nodeThrift;
  const body = Buffer.from(msg.body, 'base64');
  const result = thrift.Batch.rw.readFrom(body, 0);
  if (result.err) throw result.err;
  if (result.offset !== body.length) throw new Error(`read ${result.offset} of ${body.length} bytes`);
  return batchJson(result.value);
}

// -- producing spans --------------------------------------------------------------------------

function value(v) {
  if (v && typeof v === 'object' && '$bytes' in v) return Buffer.from(v.$bytes, 'hex');
  if (v && typeof v === 'object' && '$double' in v) return Number(v.$double);
  return v;
}

function values(obj) {
  const out = {};
  for (const key of Object.keys(obj || {})) out[key] = value(obj[key]);
  return out;
}

function ids(context) {
  return {
    trace: context.traceId.toString('hex'),
    span: context.spanId.toString('hex'),
    parent: context.parentId ? context.parentId.toString('hex') : null,
    flags: context.flags,
  };
}

const quietLogger = { info() {}, error() {} };

function emit(msg, done) {
  const reporter = msg.transport === 'http'
    ? { collectorEndpoint: msg.endpoint, flushIntervalMs: 50 }
    : { agentHost: '127.0.0.1', agentPort: msg.port, flushIntervalMs: 50 };
  const tracer = jaeger.initTracer(
    { serviceName: msg.service, sampler: { type: 'const', param: 1 }, reporter },
    { tags: values(msg.process_tags), traceId128bit: !!msg.trace_id_128bit, logger: quietLogger },
  );
  const made = [];
  for (const spec of msg.spans) {
    const options = { tags: values(spec.tags) };
    if (spec.child_of !== undefined) options.childOf = made[spec.child_of].context();
    if (spec.follows_from !== undefined) {
      options.references = [opentracing.followsFrom(made[spec.follows_from].context())];
    }
    if (spec.start_ms !== undefined) options.startTime = spec.start_ms;
    const span = tracer.startSpan(spec.name, options);
    for (const [key, val] of Object.entries(spec.baggage || {})) span.setBaggageItem(key, val);
    for (const fields of spec.logs || []) span.log(values(fields), spec.log_ms);
    made.push(span);
  }
  // Finish in reverse order, children first, as an application would.
  for (let i = made.length - 1; i >= 0; i--) made[i].finish(msg.spans[i].finish_ms);
  tracer.close(() => done(made.map((span) => ids(span.context()))));
}

// -- propagation ------------------------------------------------------------------------------

let propagationTracer = null;
function propagator() {
  if (propagationTracer === null) {
    propagationTracer = new jaeger.Tracer(
      'node-propagation', new jaeger.NoopReporter(), new jaeger.ConstSampler(true), { logger: quietLogger },
    );
  }
  return propagationTracer;
}

const FORMATS = { http_headers: opentracing.FORMAT_HTTP_HEADERS, text_map: opentracing.FORMAT_TEXT_MAP };

// Node's B3 codec, registered as jaeger-client's README shows, under "b3_http_headers".
let b3Codec = null;
function registerB3() {
  if (b3Codec === null) {
    b3Codec = new jaeger.ZipkinB3TextMapCodec({ urlEncoding: true });
    propagator().registerInjector('b3_http_headers', b3Codec);
    propagator().registerExtractor('b3_http_headers', b3Codec);
    FORMATS.b3_http_headers = 'b3_http_headers';
  }
}

function inject(msg) {
  registerB3();
  const context = jaeger.SpanContext.withStringIds(
    msg.trace, msg.span, msg.parent || null, msg.flags, msg.baggage || {}, msg.debug_id || '',
  );
  const carrier = {};
  propagator().inject(context, FORMATS[msg.format], carrier);
  return carrier;
}

function extract(msg) {
  registerB3();
  const context = propagator().extract(FORMATS[msg.format], msg.carrier);
  if (!context) return null;
  return {
    valid: context.isValid,
    trace: context.isValid ? context.traceId.toString('hex') : null,
    span: context.isValid ? context.spanId.toString('hex') : null,
    flags: context.flags,
    sampled: context.isSampled(),
    debug: context.isDebug(),
    baggage: context.baggage,
    debug_id: context.debugId,
  };
}

// -- loop -------------------------------------------------------------------------------------

const handlers = {
  decode_batch: (msg, done) => done(decodeBatch(msg)),
  emit,
  inject: (msg, done) => done(inject(msg)),
  extract: (msg, done) => done(extract(msg)),
};

function answer(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
    handlers[msg.cmd](msg, (result) => answer({ ok: true, result }));
  } catch (err) {
    answer({ ok: false, error: String((err && err.stack) || err) });
  }
});
lines.on('close', () => process.exit(0));
answer({ ok: true, result: 'ready' });
