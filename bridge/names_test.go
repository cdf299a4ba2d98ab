package bridge

import "testing"

func TestEntityNamesReadAsPeopleWriteThem(t *testing.T) {
	for key, want := range map[string]string{
		"ip_address":            "IP address",
		"mac_address":           "MAC address",
		"windowcoverings_state": "Window coverings state",
		"target_temp_high":      "Target temperature high",
		"co":                    "Carbon monoxide",
		"update_needed":         "Update available",
		"vacation_mode_enabled": "Vacation mode enabled",
		"battery":               "Battery",
		"alarm_sensitivity":     "Alarm sensitivity",
	} {
		if got := FieldLabel(key); got != want {
			t.Errorf("FieldLabel(%q) = %q, want %q", key, got, want)
		}
	}
}
