package grape

import (
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/grenache-go/grenache/pkg/budget"
	"github.com/grenache-go/grenache/pkg/dht"
)

// serveGrenache answers every request that is not one of the GET-only extras,
// exactly like a Node grape: any method, any Content-Type, body read under
// the size limit, JSON parsed, then dispatched on the raw request target.
func (g *Grape) serveGrenache(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ep := resolveEndpoint(r.RequestURI)
	bp := bodyPool.Get().(*[]byte)
	lease := g.bodies.NewLease() // held until the reply (possibly built in *bp) is written
	rp := g.handle(r, ep, bp, &lease)
	rp.write(w)
	lease.Release()
	if cap(*bp) <= maxPooledBody {
		bodyPool.Put(bp) // written: neither the body nor a reply built in it is referenced
	}
	took := time.Since(start)
	g.metrics.observe(ep, rp.outcome, took)
	if e := g.log.Debug(); e != nil {
		e.Str("method", r.Method).Str("target", r.RequestURI).
			Int("status", rp.status).Str("outcome", rp.outcome).Dur("took", took).Msg("request")
	}
}

// handle turns one request into Node's reply; *bp is a reusable body
// buffer, leased from the grape's body budget through l. A panic in endpoint code becomes a 500 like an uncaught throw in
// Node's promise chain, never a dropped connection.
func (g *Grape) handle(r *http.Request, ep string, bp *[]byte, l *budget.Lease) (rp reply) {
	defer func() {
		if p := recover(); p != nil {
			g.log.Error().Interface("panic", p).Str("target", r.RequestURI).Msg("handler panic")
			rp = rawError("ERR_GRAPE_GENERIC")
		}
	}()
	// Read one byte past the limit to detect an oversized body, growing
	// the buffer with the bytes that arrive (never with Content-Length).
	// Unlike http.MaxBytesReader this does not force "Connection: close":
	// net/http then discards the unread rest and keeps the connection, as
	// Node does.
	body, err := budget.ReadAll(r.Context(), l, *bp, r.Body, g.cfg.MaxPayloadSize)
	*bp = body
	switch {
	case errors.Is(err, budget.ErrBusy) || errors.Is(err, budget.ErrTooLarge):
		return replyBusy
	case err != nil:
		return rawError("request aborted")
	}
	if int64(len(body)) > g.cfg.MaxPayloadSize {
		return replyTooLarge
	}
	ctx := g.opCtx
	var data any
	if name, ok := parseFast(body); ok {
		if ep == epLookup {
			return g.lookupName(ctx, name, body) // the hot path: no interface{} tree, no reply allocation
		}
		data = name
	} else {
		msg, ok := parseBody(body)
		if !ok {
			return replyInvalid
		}
		if msg == nil {
			return rawError(jsTypeError(nil, "data"))
		}
		data = prop(msg, "data")
	}
	switch ep {
	case epAnnounce:
		return g.announce(ctx, data, requester(r))
	case epUnannounce:
		return g.unannounce(ctx, data)
	case epLookup:
		return g.lookup(ctx, data, body)
	case epPut:
		return g.put(ctx, data)
	case epGet:
		return g.get(ctx, data)
	}
	return replyNotFound
}

// requester is the IP an HTTP request came from (zero when unknown): the
// source the DHT peer store charges a self-stored announcement to.
func requester(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
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
