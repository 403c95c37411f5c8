package spool

import (
	"bytes"
	"testing"
)

func FuzzDecodeFrame(f *testing.F) {
	f.Add(appendFrame(nil, 1, []byte("hello"), payloadChecksum([]byte("hello"))))
	f.Add(appendFrame(nil, 0, nil, 0))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		seq, payload, n, err := decodeFrame(data)
		if err != nil {
			return
		}
		if n != frameSize(len(payload)) || n > len(data) {
			t.Fatalf("frame size %d for %d-byte payload in %d bytes", n, len(payload), len(data))
		}
		if re := appendFrame(nil, seq, payload, payloadChecksum(payload)); !bytes.Equal(re, data[:n]) {
			t.Fatalf("re-encoding differs:\n%x\n%x", re, data[:n])
		}
	})
}

func FuzzScanSegment(f *testing.F) {
	var seg []byte
	for i := range uint64(4) {
		p := bytes.Repeat([]byte{byte(i)}, int(i)*7)
		seg = appendFrame(seg, 10+i, p, payloadChecksum(p))
	}
	f.Add(seg, uint64(10))
	f.Add(seg[:len(seg)-3], uint64(10))
	damaged := bytes.Clone(seg)
	damaged[20] ^= 1
	f.Add(damaged, uint64(10))
	f.Add([]byte{}, uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, firstSeq uint64) {
		res := scanSegment(data, firstSeq)
		end := int64(0)
		for i, r := range res.recs {
			if int64(r.off) < end {
				t.Fatalf("record %d at %d overlaps the previous one ending at %d", i, r.off, end)
			}
			if i == 0 && r.seq < firstSeq || i > 0 && r.seq <= res.recs[i-1].seq {
				t.Fatalf("record %d has seq %d out of order", i, r.seq)
			}
			seq, payload, _, err := decodeFrame(data[r.off:])
			if err != nil || seq != r.seq || len(payload) != int(r.n) {
				t.Fatalf("record %d does not decode where the scan put it: %v", i, err)
			}
			end = r.frameEnd()
		}
		if res.validEnd != end || res.validEnd+res.tail != int64(len(data)) {
			t.Fatalf("validEnd %d tail %d, last record ends at %d, data %d bytes", res.validEnd, res.tail, end, len(data))
		}
		for _, g := range res.gaps {
			if g.from >= g.to || g.to > res.validEnd {
				t.Fatalf("bad gap %+v", g)
			}
		}
	})
}

func FuzzDecodeCommitPoint(f *testing.F) {
	f.Add(encodeCommitPoint(commitPoint{committed: 5, highWater: 9}))
	f.Add([]byte("SLSPCMT1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := decodeCommitPoint(data)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeCommitPoint(cp), data) {
			t.Fatalf("commit point %+v does not re-encode to its input", cp)
		}
	})
}
