package spool

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Frame layout on disk, little-endian:
//
//	[u32 payload length][u32 crc32c of payload][u64 seq][payload]
//
// The CRC covers only the payload; the length and seq fields are checked
// structurally instead (length must fit the file, seq must continue the
// segment's run), which catches a flipped bit in either of them.
const frameHeaderSize = 16

// maxDecodePayload bounds the length field accepted when reading a segment.
// It is deliberately independent of Options.MaxRecordBytes so that lowering
// that option never turns records written earlier into "corruption".
const maxDecodePayload = 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	errShortFrame   = errors.New("short frame")
	errFrameTooLong = errors.New("frame length out of range")
	errBadChecksum  = errors.New("payload checksum mismatch")
)

func frameSize(payloadLen int) int { return frameHeaderSize + payloadLen }

func payloadChecksum(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

// appendFrame appends one framed record to dst. sum must be payloadChecksum(payload);
// it is passed in so callers can compute it outside their locks.
func appendFrame(dst []byte, seq uint64, payload []byte, sum uint32) []byte {
	var hdr [frameHeaderSize]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(hdr[4:8], sum)
	binary.LittleEndian.PutUint64(hdr[8:16], seq)
	dst = append(dst, hdr[:]...)
	return append(dst, payload...)
}

// peekHeader reads a frame header without touching the payload, so scans
// can reject most garbage before paying for a checksum.
func peekHeader(b []byte) (length uint32, seq uint64, ok bool) {
	if len(b) < frameHeaderSize {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint64(b[8:16]), true
}

// decodeFrame decodes the frame at the start of b. It returns the record's
// seq, its payload (aliasing b) and the frame's total size. errShortFrame
// means b ends inside the frame (a torn tail looks like this).
func decodeFrame(b []byte) (seq uint64, payload []byte, n int, err error) {
	if len(b) < frameHeaderSize {
		return 0, nil, 0, errShortFrame
	}
	length := binary.LittleEndian.Uint32(b[0:4])
	if length > maxDecodePayload {
		return 0, nil, 0, errFrameTooLong
	}
	n = frameHeaderSize + int(length)
	if len(b) < n {
		return 0, nil, 0, errShortFrame
	}
	payload = b[frameHeaderSize:n]
	if payloadChecksum(payload) != binary.LittleEndian.Uint32(b[4:8]) {
		return 0, nil, 0, errBadChecksum
	}
	return binary.LittleEndian.Uint64(b[8:16]), payload, n, nil
}

// recRef locates one durable record inside its segment file.
type recRef struct {
	seq uint64
	off uint32 // frame start; segments stay below 4 GiB (see Options limits)
	n   uint32 // payload length
}

func (r recRef) frameEnd() int64 { return int64(r.off) + int64(frameSize(int(r.n))) }

// gap is a byte range of a segment that held no decodable record.
type gap struct {
	from, to int64
}

// scanResult describes what scanSegment found in one segment's bytes.
type scanResult struct {
	recs     []recRef
	validEnd int64 // end of the last valid record (0 if none)
	gaps     []gap // undecodable ranges followed by a valid record
	tail     int64 // undecodable bytes after the last valid record
}

// scanSegment walks a whole segment file. Records must form runs of
// consecutive seqs starting at firstSeq (the number in the file name). When
// a frame does not decode, the scan resynchronises on the next offset that
// holds a valid frame whose seq plausibly continues the run, so that one
// flipped bit costs one record, not the rest of the file.
func scanSegment(data []byte, firstSeq uint64) scanResult {
	var res scanResult
	expect := firstSeq
	off := 0
	for off < len(data) {
		var (
			seq     uint64
			payload []byte
			n       int
			err     = errShortFrame
		)
		if _, hseq, ok := peekHeader(data[off:]); ok && hseq == expect {
			seq, payload, n, err = decodeFrame(data[off:])
		}
		if err == nil {
			res.recs = append(res.recs, recRef{seq: seq, off: uint32(off), n: uint32(len(payload))})
			off += n
			res.validEnd = int64(off)
			expect = seq + 1
			continue
		}
		next, ok := resync(data, off+1, expect)
		if !ok {
			res.tail = int64(len(data) - off)
			break
		}
		res.gaps = append(res.gaps, gap{from: int64(off), to: int64(next)})
		seq, _, _, _ = decodeFrame(data[next:])
		expect = seq
		off = next
	}
	return res
}

// resync finds the first offset >= from holding a valid frame with a seq in
// [expect, expect+maxSkip] that is confirmed by what follows it: either the
// next frame continues the run, or the candidate ends the data exactly and
// is not empty. The confirmation matters because an empty frame is just
// zeros plus a seq (the CRC of nothing is 0), which a stray byte in a
// zero-padded payload can forge. All structural checks run before any
// checksum, which keeps the search linear in practice: garbage almost never
// holds a plausible seq, let alone two chained ones.
func resync(data []byte, from int, expect uint64) (int, bool) {
	// Every skipped record occupied at least a header, which bounds how far
	// the seq can have advanced within the bytes that remain.
	maxSkip := uint64(len(data)-from)/frameHeaderSize + 1
	plausible := func(seq uint64) bool { return seq >= expect && seq-expect <= maxSkip }
	for p := from; p+frameHeaderSize <= len(data); p++ {
		length, seq, _ := peekHeader(data[p:])
		if !plausible(seq) || uint64(length) > uint64(len(data)-p-frameHeaderSize) {
			continue
		}
		end := p + frameSize(int(length))
		if end == len(data) {
			if length == 0 {
				continue
			}
			if _, _, _, err := decodeFrame(data[p:]); err == nil {
				return p, true
			}
			continue
		}
		nextLen, nextSeq, ok := peekHeader(data[end:])
		if !ok || nextSeq != seq+1 || uint64(nextLen) > uint64(len(data)-end-frameHeaderSize) {
			continue
		}
		if _, _, _, err := decodeFrame(data[p:]); err != nil {
			continue
		}
		if _, _, _, err := decodeFrame(data[end:]); err == nil {
			return p, true
		}
	}
	return 0, false
}
