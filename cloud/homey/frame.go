package homey

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// appendCallFrame appends the socket.io frame of one "api" call with ack
// id n on namespace nsp: what "42"+nsp+","+n followed by
// json.Marshal([]any{"api", {"uri": uri, "operation": operation, "args":
// args}}) spells, byte for byte. Every command to a Homey is such a frame,
// and encoding/json's reflection over two maps was a tenth of the bridge's
// CPU per Homey command; plain values (strings without characters JSON or
// HTML escape, booleans, null, integers and floats that print without an
// exponent) are written here, anything else through encoding/json.
func appendCallFrame(dst []byte, nsp string, n int, uri, operation string, args map[string]any) ([]byte, error) {
	dst = append(dst, "42"...)
	dst = append(dst, nsp...)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, `["api",{"args":`...)
	var err error
	if dst, err = appendJSONObject(dst, args); err != nil {
		return nil, err
	}
	dst = append(dst, `,"operation":`...)
	dst = appendJSONString(dst, operation)
	dst = append(dst, `,"uri":`...)
	dst = appendJSONString(dst, uri)
	return append(dst, "}]"...), nil
}

// appendJSONObject appends m as json.Marshal spells it: keys sorted.
func appendJSONObject(dst []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	var keysBuf [8]string
	keys := keysBuf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendJSONValue(dst, m[k]); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// appendJSONValue appends v as json.Marshal spells it.
func appendJSONValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case string:
		return appendJSONString(dst, x), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		// encoding/json prints 1e-6 <= |x| < 1e21 (and 0) in 'f' form.
		if a := math.Abs(x); a == 0 || a >= 1e-6 && a < 1e21 {
			return strconv.AppendFloat(dst, x, 'f', -1, 64), nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// appendJSONString appends s quoted as json.Marshal quotes it.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
