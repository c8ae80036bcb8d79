package transport

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"sync"
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

// gunzipTo decompresses src into dst, failing when the output would exceed
// limit bytes (a small gzip body can expand enormously).
func gunzipTo(dst *bytes.Buffer, src []byte, limit int64) error {
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
	n, err := io.Copy(dst, io.LimitReader(zr, limit+1))
	if err != nil {
		return err
	}
	if n > limit {
		return errTooLarge
	}
	return nil
}

// readBody reads at most limit bytes from r into dst; more is errTooLarge.
func readBody(dst *bytes.Buffer, r io.Reader, sizeHint, limit int64) error {
	if sizeHint > limit {
		return errTooLarge
	}
	if sizeHint >= 0 {
		// Known length (net/http enforces it): read exactly that much,
		// skipping the LimitReader allocation on the hot path.
		dst.Grow(int(sizeHint))
		b := dst.AvailableBuffer()[:sizeHint]
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		dst.Write(b)
		return nil
	}
	n, err := dst.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return err
	}
	if n > limit {
		return errTooLarge
	}
	return nil
}
