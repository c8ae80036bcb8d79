package grape

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/grenache-go/grenache/pkg/dht"
)

// serveGrenache answers every request that is not one of the GET-only extras,
// exactly like a Node grape: any method, any Content-Type, body read under
// the size limit, JSON parsed, then dispatched on the raw request target.
func (g *Grape) serveGrenache(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ep := resolveEndpoint(r.RequestURI)
	rp := g.handle(r, ep)
	rp.write(w)
	label := ep
	if label == "" {
		label = "unknown"
	}
	g.metrics.observe(label, rp.outcome, time.Since(start))
	g.log.Debug().Str("method", r.Method).Str("target", r.RequestURI).
		Int("status", rp.status).Str("outcome", rp.outcome).Dur("took", time.Since(start)).Msg("request")
}

// handle turns one request into Node's reply. A panic in endpoint code
// becomes a 500 like an uncaught throw in Node's promise chain, never a
// dropped connection.
func (g *Grape) handle(r *http.Request, ep string) (rp reply) {
	defer func() {
		if p := recover(); p != nil {
			g.log.Error().Interface("panic", p).Str("target", r.RequestURI).Msg("handler panic")
			rp = rawError("ERR_GRAPE_GENERIC")
		}
	}()
	// Read one byte past the limit to detect an oversized body. Unlike
	// http.MaxBytesReader this does not force "Connection: close": net/http
	// then discards the unread rest and keeps the connection, as Node does.
	body, err := io.ReadAll(io.LimitReader(r.Body, g.cfg.MaxPayloadSize+1))
	if err != nil {
		return rawError("request aborted")
	}
	if int64(len(body)) > g.cfg.MaxPayloadSize {
		return replyTooLarge
	}
	msg, ok := parseBody(body)
	if !ok {
		return replyInvalid
	}
	if msg == nil {
		return rawError(jsTypeError(nil, "data"))
	}
	data := prop(msg, "data")
	ctx := g.opCtx
	switch ep {
	case epAnnounce:
		return g.announce(ctx, data)
	case epLookup:
		return g.lookup(ctx, data)
	case epPut:
		return g.put(ctx, data)
	case epGet:
		return g.get(ctx, data)
	}
	return replyNotFound
}

// dhtErrorReply sends a DHT failure the Node way: the message as a JSON
// string, status 200, unless it is a KRPC 3xx error (BEP44 CAS mismatch,
// sequence too old), whose code becomes the HTTP status.
func dhtErrorReply(err error) reply {
	var ke *dht.Error
	if errors.As(err, &ke) && ke.Code >= 300 && ke.Code < 400 {
		return reply{status: ke.Code, body: jsonString(ke.Msg), outcome: outcomeDHTError}
	}
	return appError(err.Error())
}
