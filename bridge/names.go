package bridge

import "strings"

// entityNames are whole state keys whose words alone read badly.
var entityNames = map[string]string{
	"co":                "Carbon monoxide",
	"co2":               "Carbon dioxide",
	"update_needed":     "Update available",
	"updating_firmware": "Firmware updating",
	"auto_shutoff":      "Auto shut-off",
	"powering_mode":     "Power mode",
}

// entityWords are words of state keys as people write them: acronyms in
// capitals, run-together and shortened words spelled out.
var entityWords = map[string]string{
	"ip": "IP", "mac": "MAC", "id": "ID", "co": "CO", "co2": "CO₂", "uv": "UV", "led": "LED", "usb": "USB",
	"rssi": "RSSI", "pm25": "PM2.5", "voc": "VOC", "hvac": "HVAC",
	"windowcoverings": "window coverings", "temp": "temperature", "temps": "temperatures",
	"humidity": "humidity", "lux": "illuminance",
}

// FieldLabel is the Home Assistant entity name of a state key, as a person
// would write it (also the status page's label): "ip_address" → "IP address", "windowcoverings_state" →
// "Window coverings state", "target_temp_high" → "Target temperature high".
func FieldLabel(key string) string {
	if n, ok := entityNames[key]; ok {
		return n
	}
	words := strings.Split(key, "_")
	for i, w := range words {
		if r, ok := entityWords[w]; ok {
			words[i] = r
		}
	}
	name := strings.TrimSpace(strings.Join(words, " "))
	if name == "" {
		return key
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
