package transport

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/grenache-go/grenache/pkg/budget"
)

// Pools for gzip state: a gzip.Writer holds ~800 KB of compressor tables,
// so allocating one per compressed request would dominate its cost.
var (
	gzipWriters sync.Pool // *gzip.Writer
	gzipReaders sync.Pool // *gzip.Reader
	bufPool     = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

func getBuf() *bytes.Buffer { b := bufPool.Get().(*bytes.Buffer); b.Reset(); return b }

// putBuf returns b to the pool unless it grew huge, so one large request
// does not pin megabytes in the pool forever.
func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		bufPool.Put(b)
	}
}

// gzipAppend compresses src and writes it to dst.
func gzipTo(dst *bytes.Buffer, src []byte) error {
	zw, _ := gzipWriters.Get().(*gzip.Writer)
	if zw == nil {
		zw = gzip.NewWriter(dst)
	} else {
		zw.Reset(dst)
	}
	_, err := zw.Write(src)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	gzipWriters.Put(zw)
	return err
}

var errTooLarge = errors.New("decompressed body exceeds limit")

// gunzipReserve is what a decompression leases for the pooled reader's
// state (a 32 KiB window plus Huffman tables) before it starts, so many
// small gzip bodies decompressing at once are counted too.
const gunzipReserve = 64 << 10

// gunzipTo decompresses src into dst, failing when the output would exceed
// limit bytes (a small gzip body can expand enormously). The output grows
// with the bytes actually produced, under l (see budget.ReadAll).
func gunzipTo(ctx context.Context, l *budget.Lease, dst *bytes.Buffer, src []byte, limit int64) error {
	if err := l.Add(ctx, gunzipReserve); err != nil {
		return err
	}
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(src))
	} else {
		err = zr.Reset(bytes.NewReader(src))
	}
	if err != nil {
		return err
	}
	defer gzipReaders.Put(zr)
	return readInto(ctx, l, dst, zr, limit)
}

// readBody reads at most limit bytes from r into dst; more is errTooLarge.
// sizeHint (a Content-Length, -1 if unknown) only rejects early and caps
// growth: the buffer grows with what arrives, never with what is claimed,
// and every byte of it is leased from l first.
func readBody(ctx context.Context, l *budget.Lease, dst *bytes.Buffer, r io.Reader, sizeHint, limit int64) error {
	if sizeHint > limit {
		return errTooLarge
	}
	return readInto(ctx, l, dst, r, limit)
}

// readInto reads r into dst (reusing its capacity) under l, errTooLarge past limit.
func readInto(ctx context.Context, l *budget.Lease, dst *bytes.Buffer, r io.Reader, limit int64) error {
	dst.Reset()
	b, err := budget.ReadAll(ctx, l, dst.AvailableBuffer(), r, limit)
	// Hand the (possibly regrown) slice back to the buffer so it is pooled.
	*dst = *bytes.NewBuffer(b)
	if err != nil {
		return err
	}
	if int64(len(b)) > limit {
		return errTooLarge
	}
	return nil
}
