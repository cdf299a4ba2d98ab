package bridge

import (
	"strconv"
	"sync"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// keyCache shares the state keys and the fields of devices of the same
// shape: keys depend only on a device's class and fields, and thousands of
// devices often have a few shapes between them. The shared slices are
// never modified.
type keyCache struct {
	mu    sync.Mutex
	byKey map[string]shape
}

// shape is what devices of one shape share.
type shape struct {
	keys   []stateKey
	fields []cloud.Field
}

// keys returns the state keys of d and fields equal to d's, both shared
// with every device of its shape.
func (c *keyCache) keys(d *cloud.Device) ([]stateKey, []cloud.Field) {
	var buf [512]byte
	sig := appendShapeSignature(buf[:0], d)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.byKey[string(sig)]; ok {
		return s.keys, s.fields
	}
	if c.byKey == nil {
		c.byKey = map[string]shape{}
	}
	// A clone, so that the keys built from d hold nothing of d itself.
	dev := cloud.Device{Class: d.Class, Fields: d.Clone().Fields}
	s := shape{keys: deviceKeys(&dev), fields: dev.Fields}
	for i := range s.keys {
		s.keys[i].label = FieldLabel(s.keys[i].name)
	}
	c.byKey[string(sig)] = s
	return s.keys, s.fields
}

// appendShapeSignature appends what deviceKeys reads of a device to dst:
// devices of one shape spell the same.
func appendShapeSignature(dst []byte, d *cloud.Device) []byte {
	dst = append(dst, d.Class...)
	for _, f := range d.Fields {
		dst = append(dst, 0)
		dst = append(dst, f.Name...)
		dst = append(dst, 1)
		dst = append(dst, f.Kind...)
		dst = append(dst, 1)
		dst = strconv.AppendBool(dst, f.Writable)
		for _, p := range [...]*float64{f.Min, f.Max, &f.Step} {
			dst = append(dst, 1)
			if p != nil {
				dst = strconv.AppendFloat(dst, *p, 'g', -1, 64)
			}
		}
		dst = append(dst, 1)
		dst = append(dst, f.Unit...)
		dst = append(dst, 1)
		dst = append(dst, f.Category...)
		for _, c := range f.Choices {
			dst = append(dst, 2)
			dst = append(dst, c...)
		}
	}
	return dst
}
