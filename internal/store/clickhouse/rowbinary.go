package clickhouse

import (
	"encoding/binary"
	"math"
)

// rowBinary appends values in ClickHouse's RowBinary format: little-endian
// fixed-width numbers, strings as a varint length and the bytes, Nullable
// as a null flag byte before the value, arrays as a varint count.
type rowBinary struct{ b []byte }

func (w *rowBinary) str(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *rowBinary) bytes(s []byte) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *rowBinary) i64(v int64)  { w.b = binary.LittleEndian.AppendUint64(w.b, uint64(v)) }
func (w *rowBinary) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *rowBinary) i32(v int32)  { w.b = binary.LittleEndian.AppendUint32(w.b, uint32(v)) }
func (w *rowBinary) f64(v float64) {
	w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v))
}

func (w *rowBinary) boolean(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *rowBinary) nf64(v *float64) {
	if v == nil {
		w.b = append(w.b, 1)
		return
	}
	w.b = append(w.b, 0)
	w.f64(*v)
}

func (w *rowBinary) ni64(v int64, ok bool) {
	if !ok {
		w.b = append(w.b, 1)
		return
	}
	w.b = append(w.b, 0)
	w.i64(v)
}

func (w *rowBinary) strs(list []string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(list)))
	for _, s := range list {
		w.str(s)
	}
}
