package homey

import (
	"encoding/json"
	"strconv"

	"github.com/cloud2mqtt/cloud2mqtt/internal/jsonenc"
)

// appendCallFrame appends the socket.io frame of one "api" call with ack
// id n on namespace nsp: what "42"+nsp+","+n followed by
// json.Marshal([]any{"api", {"uri": uri, "operation": operation, "args":
// args}}) spells, byte for byte. Every command to a Homey is such a frame,
// and encoding/json's reflection over two maps was a tenth of the bridge's
// CPU per Homey command. Strings, booleans, null, integers and finite
// floats are written here, anything else through encoding/json.
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
	dst = jsonenc.AppendString(dst, operation)
	dst = append(dst, `,"uri":`...)
	dst = jsonenc.AppendString(dst, uri)
	return append(dst, "}]"...), nil
}

// appendJSONObject appends m as json.Marshal spells it: keys sorted.
func appendJSONObject(dst []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	var err error
	dst = jsonenc.AppendObject(dst, m, func(dst []byte, v any) []byte {
		if err == nil {
			dst, err = appendJSONValue(dst, v)
		}
		return dst
	})
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// appendJSONValue appends v as json.Marshal spells it.
func appendJSONValue(dst []byte, v any) ([]byte, error) {
	if out, ok := jsonenc.AppendScalar(dst, v); ok {
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}
