// The Jaeger agent's UDP service (jaeger-idl thrift/agent.thrift). emitZipkinBatch is
// left out: jaeger_lite neither sends nor decodes Zipkin spans.

include "jaeger.thrift"

namespace py jaeger_lite._gen.agent

service Agent {
  oneway void emitBatch(1: jaeger.Batch batch)
}
