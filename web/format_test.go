package web

import (
	"testing"
	"time"
)

func TestValuesAreWrittenForPeople(t *testing.T) {
	for _, c := range []struct {
		key, unit string
		v         any
		want      string
		swatch    string
	}{
		{"color", "", map[string]any{"h": 223.2, "s": 75.0}, "h 223.2°, s 75 %", "background:hsl(223.2,75.0%,50%)"},
		{"temperature", "°C", 20.8, "20.8 °C", ""},
		{"battery", "%", 64, "64 %", ""},
		{"color_temp", "mired", 370.0, "370 mired (2703 K)", ""},
		{"brightness", "", 204.0, "204 (80 %)", ""},
		{"auto_shutoff", "s", 90.0, "90 s (1 min)", ""},
		{"motion", "", false, "no", ""},
		{"state", "", "ON", "ON", ""},
		{"alarm_sensitivity", "", 0.6, "0.6", ""},
	} {
		got, swatch := formatValue(c.key, c.v, c.unit)
		if got != c.want || string(swatch) != c.swatch {
			t.Errorf("%s=%v: %q %q, want %q %q", c.key, c.v, got, swatch, c.want, c.swatch)
		}
	}
}

func TestTimesAreRelative(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"}, {-42 * time.Second, "42 s ago"}, {-5 * time.Minute, "5 min ago"},
		{3*time.Hour + 10*time.Minute, "in 3 h 10 min"}, {3 * time.Hour, "in 3 h"},
		{-26 * time.Hour, "1 day 2 h ago"}, {50 * 24 * time.Hour, "in 50 days"},
	} {
		if got := relative(now.Add(c.d), now); got != c.want {
			t.Errorf("%v: %q, want %q", c.d, got, c.want)
		}
	}
}

func TestLabels(t *testing.T) {
	if got := label("target_temp_high"); got != "Target temp high" {
		t.Errorf("label: %q", got)
	}
}
