package tracing

import (
	"math/rand/v2"
	"time"
)

const hexDigits = "0123456789abcdef"

// newID returns a random 16-hex segment id. math/rand/v2's top-level functions use a
// per-thread ChaCha8 source seeded by the runtime: unpredictable enough for ids and
// free of locks, which matters on the per-request path.
func newID() string {
	var b [16]byte
	putHex(b[:], rand.Uint64())
	return string(b[:])
}

// newTraceID returns an X-Ray trace id: 1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>.
func newTraceID(now time.Time) string {
	var b [35]byte
	b[0], b[1], b[10] = '1', '-', '-'
	var epoch [16]byte
	putHex(epoch[:], uint64(now.Unix()))
	copy(b[2:10], epoch[8:])
	putHex(b[11:27], rand.Uint64())
	var tail [16]byte
	putHex(tail[:], rand.Uint64())
	copy(b[27:35], tail[8:])
	return string(b[:])
}

// putHex writes v as 16 lowercase hex digits into b[:16].
func putHex(b []byte, v uint64) {
	for i := 15; i >= 0; i-- {
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
}
