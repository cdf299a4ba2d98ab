package web

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// field is one state value as the page shows it.
type field struct {
	Label  string
	Text   string
	Swatch template.CSS // a colour's background, when the value is a colour
}

// fields formats a device's state for people, sorted by key.
func fields(state map[string]any, units, labels map[string]string) []field {
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]field, 0, len(keys))
	for _, k := range keys {
		f := field{Label: labels[k]}
		if f.Label == "" {
			f.Label = label(k)
		}
		f.Text, f.Swatch = formatValue(k, state[k], units[k])
		out = append(out, f)
	}
	return out
}

// label turns a state key into words: "target_temp_high" → "Target temp high".
func label(key string) string {
	s := strings.ReplaceAll(key, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// formatValue writes one value with its unit; a colour also gets a swatch.
func formatValue(key string, v any, unit string) (string, template.CSS) {
	switch x := v.(type) {
	case nil:
		return "–", ""
	case bool:
		if x {
			return "yes", ""
		}
		return "no", ""
	case map[string]any:
		h, hok := cloud.Number(x["h"])
		s, sok := cloud.Number(x["s"])
		if hok && sok {
			h, s = math.Mod(math.Max(h, 0), 360), math.Min(math.Max(s, 0), 100)
			return fmt.Sprintf("h %s°, s %s %%", num(h), num(s)),
				template.CSS(fmt.Sprintf("background:hsl(%.1f,%.1f%%,50%%)", h, s))
		}
		return fmt.Sprint(x), ""
	}
	n, ok := cloud.Number(v)
	if !ok {
		return fmt.Sprint(v), ""
	}
	switch {
	case unit == "mired" && n > 0:
		return fmt.Sprintf("%s mired (%d K)", num(n), int(math.Round(1e6/n))), ""
	case key == "brightness" && unit == "":
		return fmt.Sprintf("%s (%d %%)", num(n), int(math.Round(n/255*100))), ""
	case unit == "s" && n >= 60:
		return fmt.Sprintf("%s s (%s)", num(n), duration(time.Duration(n)*time.Second)), ""
	case unit != "":
		return num(n) + " " + unit, ""
	}
	return num(n), ""
}

// num writes n without needless digits: 20.8, 64, 0.6.
func num(n float64) string {
	return strconv.FormatFloat(math.Round(n*100)/100, 'f', -1, 64)
}

// relative says when t is from now, in words: "just now", "5 min ago",
// "in 3 h 10 min".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	if d > -10*time.Second && d < 10*time.Second {
		return "just now"
	}
	if d < 0 {
		return duration(-d) + " ago"
	}
	return "in " + duration(d)
}

// duration writes d with its two largest units: "42 s", "5 min", "3 h 10 min", "2 days 4 h".
func duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	days, h := int(d.Hours())/24, int(d.Hours())%24
	unit := "days"
	if days == 1 {
		unit = "day"
	}
	if h == 0 {
		return fmt.Sprintf("%d %s", days, unit)
	}
	return fmt.Sprintf("%d %s %d h", days, unit, h)
}
