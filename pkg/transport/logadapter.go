package transport

import (
	"bytes"
	"log"

	"github.com/rs/zerolog"
)

// httpErrorLog routes net/http's internal errors (TLS handshake failures,
// malformed requests) to zerolog at debug level: they are caused by remote
// peers, are routine on an open port, and must not spam stderr.
func httpErrorLog(l zerolog.Logger) *log.Logger {
	return log.New(zlWriter{l}, "", 0)
}

type zlWriter struct{ l zerolog.Logger }

func (w zlWriter) Write(p []byte) (int, error) {
	w.l.Debug().Str("source", "net/http").Msg(string(bytes.TrimSpace(p)))
	return len(p), nil
}
