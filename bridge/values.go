package bridge

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// commandError is a rejected command: the field it concerns and why.
type commandError struct {
	Field  string
	Reason string
}

func (e *commandError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

func reject(field, format string, args ...any) error {
	return &commandError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// plainValue reads a payload that is not a JSON object: JSON scalars
// (numbers, true/false, quoted strings, null) keep their type, anything else
// is a bare string such as ON or TOGGLE.
func plainValue(payload []byte) any {
	s := strings.TrimSpace(string(payload))
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		if _, isObject := v.(map[string]any); !isObject {
			return v
		}
	}
	return s
}

// describe renders a received value for an error message, shortened.
func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > 40 {
		return string(b[:37]) + "..."
	}
	return string(b)
}

// asBool reads an on/off value: true/false, 1/0 and the words ON/OFF,
// TRUE/FALSE, YES/NO in any case.
func asBool(field string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case float64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "on", "true", "1", "yes":
			return true, nil
		case "off", "false", "0", "no":
			return false, nil
		}
	}
	return false, reject(field, "expected ON or OFF (or true/false, 1/0), got %s", describe(v))
}

// asNumber reads a number given as a JSON number or a numeric string.
func asNumber(field string, v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return x, nil
		}
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, nil
		}
	}
	return 0, reject(field, "expected a number, got %s", describe(v))
}

// inRange checks lo <= x <= hi, naming the field and the range.
func inRange(field string, x, lo, hi float64) error {
	if x < lo || x > hi {
		return reject(field, "%s is out of range %s to %s", trimFloat(x), trimFloat(lo), trimFloat(hi))
	}
	return nil
}

// asChoice matches v against choices, ignoring case, and returns the
// choice as the cloud spells it.
func asChoice(field string, v any, choices []string) (string, error) {
	s, ok := v.(string)
	if ok {
		for _, c := range choices {
			if strings.EqualFold(c, strings.TrimSpace(s)) {
				return c, nil
			}
		}
	}
	return "", reject(field, "expected one of %s, got %s", strings.Join(choices, ", "), describe(v))
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// round rounds to the given number of decimals.
func round(f float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(f*p) / p
}
