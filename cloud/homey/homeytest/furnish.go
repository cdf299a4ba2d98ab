package homeytest

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Zone ids of the furnished home (Home is RootZoneID).
const (
	ZoneLivingRoom = "3f1c2a0e-5b7d-4c8e-9a61-0d2e4f6a8b01"
	ZoneKitchen    = "3f1c2a0e-5b7d-4c8e-9a61-0d2e4f6a8b02"
	ZoneBedroom    = "3f1c2a0e-5b7d-4c8e-9a61-0d2e4f6a8b03"
	ZoneHallway    = "3f1c2a0e-5b7d-4c8e-9a61-0d2e4f6a8b04"
)

// Device ids of the furnished home.
const (
	DeviceLight       = "7c2b75c4-fb27-4206-ada3-26950feefa95"
	DeviceColourLight = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a01"
	DeviceSocket      = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a02"
	DeviceThermostat  = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a03"
	DeviceMotion      = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a04"
	DeviceBlinds      = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a05"
	DeviceDoor        = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a06"
	DeviceFan         = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a07"
	DeviceHomeAlarm   = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a08"
	DeviceVacuum      = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a09"
	DeviceSpeaker     = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a10"
	DeviceTV          = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a11"
	DeviceLock        = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a12"
	DeviceDoorbell    = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a13"
	DeviceButton      = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a14"
	DeviceGarageDoor  = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a15"
	DeviceHeater      = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a16"
	DeviceEVCharger   = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a17"
	DeviceSmokeAlarm  = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a18"
	DeviceLeak        = "a4f8e2b1-3c5d-4e6f-8a9b-0c1d2e3f4a19"
)

// caps builds a capabilitiesObj of partial entries: id → extra fields.
// When ms is true every entry's lastUpdated is an epoch-ms number.
func caps(ms bool, at time.Time, entries ...any) map[string]any {
	out := map[string]any{}
	for i := 0; i+1 < len(entries); i += 2 {
		e := map[string]any{}
		for k, v := range entries[i+1].(map[string]any) {
			e[k] = v
		}
		if ms {
			e["lastUpdated"] = at.UnixMilli()
		} else {
			e["lastUpdated"] = isoTime(at)
		}
		out[entries[i].(string)] = e
	}
	return out
}

func v(value any) map[string]any { return map[string]any{"value": value} }

// Furnish adds the demo home: zones Living room, Kitchen, Bedroom and
// Hallway under Home, and one device of every common class with fixed ids
// (Device*): a light, a colour light, a metered socket, a thermostat with a
// floor temperature sub-capability, a motion sensor, blinds, a door sensor,
// a fan, a home alarm, a robot vacuum, a speaker, a TV, a lock, a doorbell,
// a button, a garage door, a heater, an EV charger, a smoke alarm and a
// leak sensor. The
// light, colour light, blinds and door sensor report lastUpdated as ISO
// strings; the others as epoch-ms numbers. Calling it again replaces the
// same zones and devices.
func (s *Server) Furnish() {
	s.mu.Lock()
	for _, z := range []struct{ id, name, icon string }{
		{ZoneLivingRoom, "Living room", "livingRoom"},
		{ZoneKitchen, "Kitchen", "kitchen"},
		{ZoneBedroom, "Bedroom", "bedroomSingle"},
		{ZoneHallway, "Hallway", "hallway"},
	} {
		s.addZoneLocked(map[string]any{"id": z.id, "name": z.name, "parent": RootZoneID, "icon": z.icon})
	}
	s.mu.Unlock()

	at := time.Now().Add(-10 * time.Minute)
	hue := func(kind string) (string, string) {
		return "homey:app:nl.philips.hue:" + kind, "homey:app:nl.philips.hue"
	}
	dev := func(id, name, class, zone, driver, owner string, capList []any, obj map[string]any, extra map[string]any) map[string]any {
		d := map[string]any{
			"id": id, "name": name, "class": class, "zone": zone, "driverId": driver, "ownerUri": owner,
			"data": map[string]any{"id": id[len(id)-12:]}, "capabilities": capList, "capabilitiesObj": obj,
		}
		for k, x := range extra {
			d[k] = x
		}
		return d
	}
	driver, owner := hue("bulb")
	cdriver, cowner := hue("bulb-color")
	devices := []map[string]any{
		dev(DeviceLight, "Ceiling light", "light", ZoneLivingRoom, driver, owner,
			[]any{"onoff", "dim", "light_temperature"},
			caps(false, at, "onoff", v(true), "dim", v(0.8), "light_temperature", v(0.45)),
			map[string]any{"color": "#F4AF2E"}),
		dev(DeviceColourLight, "Colour lamp", "light", ZoneLivingRoom, cdriver, cowner,
			[]any{"onoff", "dim", "light_hue", "light_saturation", "light_temperature", "light_mode"},
			caps(false, at, "onoff", v(false), "dim", v(0.5), "light_hue", v(0.13), "light_saturation", v(0.56),
				"light_temperature", v(0.63), "light_mode", v("temperature")),
			map[string]any{"color": "#F4AF2E"}),
		dev(DeviceSocket, "Coffee machine", "socket", ZoneKitchen, "homey:app:com.fibaro:FGWPx-102-PLUS", "homey:app:com.fibaro",
			[]any{"onoff", "measure_power", "meter_power"},
			caps(true, at, "onoff", v(true), "measure_power", v(3.2), "meter_power", map[string]any{"value": 12.345, "units": "kWh"}),
			map[string]any{"virtualClass": nil, "energyObj": map[string]any{"cumulative": true}}),
		dev(DeviceThermostat, "Thermostat", "thermostat", ZoneLivingRoom, "homey:app:com.danfoss:thermostat", "homey:app:com.danfoss",
			[]any{"target_temperature", "measure_temperature", "measure_temperature.floor", "thermostat_mode", "measure_humidity"},
			caps(true, at,
				"target_temperature", map[string]any{"value": 21.5, "min": 5, "max": 30, "step": 0.5, "decimals": 1},
				"measure_temperature", v(20.8),
				"measure_temperature.floor", map[string]any{"value": 23.1, "title": "Floor temperature"},
				"thermostat_mode", v("heat"),
				"measure_humidity", v(48.5)),
			map[string]any{"settingsObj": true, "settings": map[string]any{"temperature_offset": 0}}),
		dev(DeviceMotion, "Hallway motion", "sensor", ZoneHallway, "homey:app:com.aqara:motion_sensor", "homey:app:com.aqara",
			[]any{"alarm_motion", "measure_temperature", "measure_luminance", "measure_battery", "alarm_tamper"},
			caps(true, at, "alarm_motion", v(false), "measure_temperature", v(19.6), "measure_luminance", v(120),
				"measure_battery", v(87), "alarm_tamper", v(false)),
			map[string]any{"energyObj": map[string]any{"batteries": []any{"CR2450"}}}),
		dev(DeviceBlinds, "Bedroom blinds", "windowcoverings", ZoneBedroom, "homey:app:com.somfy:roller_shutter", "homey:app:com.somfy",
			[]any{"windowcoverings_set", "windowcoverings_state"},
			caps(false, at, "windowcoverings_set", v(1.0), "windowcoverings_state", v("idle")),
			nil),
		dev(DeviceDoor, "Front door", "sensor", ZoneHallway, "homey:app:com.aqara:door_sensor", "homey:app:com.aqara",
			[]any{"alarm_contact", "measure_battery"},
			caps(false, at, "alarm_contact", v(false), "measure_battery", v(64)),
			map[string]any{"energyObj": map[string]any{"batteries": []any{"CR1632"}}}),
		dev(DeviceFan, "Bedroom fan", "fan", ZoneBedroom, "homey:app:com.example.fans:fan", "homey:app:com.example.fans",
			[]any{"onoff", "fan_speed"},
			caps(true, at, "onoff", v(false), "fan_speed", v(0.33)),
			nil),
		dev(DeviceHomeAlarm, "Home alarm", "homealarm", ZoneHallway, "homey:app:com.ajax:hub", "homey:app:com.ajax",
			[]any{"homealarm_state", "alarm_generic", "alarm_tamper"},
			caps(true, at, "homealarm_state", v("disarmed"), "alarm_generic", v(false), "alarm_tamper", v(false)),
			nil),
		dev(DeviceVacuum, "Robot vacuum", "vacuumcleaner", ZoneLivingRoom, "homey:app:com.roborock:vacuum", "homey:app:com.roborock",
			[]any{"onoff", "vacuumcleaner_state", "measure_battery", "alarm_stuck"},
			caps(true, at, "onoff", v(false), "vacuumcleaner_state", v("docked"), "measure_battery", v(100), "alarm_stuck", v(false)),
			nil),
		dev(DeviceSpeaker, "Kitchen speaker", "speaker", ZoneKitchen, "homey:app:com.sonos:speaker", "homey:app:com.sonos",
			[]any{"speaker_playing", "volume_set", "volume_mute", "speaker_next", "speaker_prev"},
			caps(true, at, "speaker_playing", v(false), "volume_set", v(0.25), "volume_mute", v(false),
				"speaker_next", v(nil), "speaker_prev", v(nil)),
			nil),
		dev(DeviceTV, "Television", "tv", ZoneLivingRoom, "homey:app:com.lg.webos:tv", "homey:app:com.lg.webos",
			[]any{"onoff", "volume_set", "volume_mute", "channel_up", "channel_down"},
			caps(true, at, "onoff", v(false), "volume_set", v(0.4), "volume_mute", v(false), "channel_up", v(nil), "channel_down", v(nil)),
			nil),
		dev(DeviceLock, "Back door lock", "lock", ZoneKitchen, "homey:app:com.nuki:smartlock", "homey:app:com.nuki",
			[]any{"locked", "lock_mode", "measure_battery", "alarm_battery"},
			caps(true, at, "locked", v(true), "lock_mode", v("always_locked"), "measure_battery", v(71), "alarm_battery", v(false)),
			map[string]any{"energyObj": map[string]any{"batteries": []any{"AA", "AA", "AA", "AA"}}}),
		dev(DeviceDoorbell, "Doorbell", "doorbell", ZoneHallway, "homey:app:com.ring:doorbell", "homey:app:com.ring",
			[]any{"alarm_generic", "alarm_motion", "measure_battery"},
			caps(true, at, "alarm_generic", v(false), "alarm_motion", v(false), "measure_battery", v(93)),
			nil),
		dev(DeviceButton, "Scene button", "button", ZoneBedroom, "homey:virtualdevice:button", "homey:virtualdevice",
			[]any{"button"},
			caps(true, at, "button", v(nil)),
			nil),
		dev(DeviceGarageDoor, "Garage door", "garagedoor", ZoneHallway, "homey:app:com.chamberlain:garagedoor", "homey:app:com.chamberlain",
			[]any{"garagedoor_closed"},
			caps(true, at, "garagedoor_closed", v(true)),
			nil),
		dev(DeviceHeater, "Bathroom heater", "heater", ZoneBedroom, "homey:app:com.adax:heater", "homey:app:com.adax",
			[]any{"onoff", "target_temperature", "measure_temperature", "meter_power"},
			caps(true, at, "onoff", v(true), "target_temperature", map[string]any{"value": 22.0, "min": 5, "max": 35, "step": 0.5, "decimals": 1},
				"measure_temperature", v(21.4), "meter_power", v(345.6)),
			nil),
		dev(DeviceEVCharger, "Car charger", "evcharger", ZoneHallway, "homey:app:com.easee:charger", "homey:app:com.easee",
			[]any{"evcharger_charging", "evcharger_charging_state", "measure_power", "meter_power", "measure_current"},
			caps(true, at, "evcharger_charging", v(false), "evcharger_charging_state", v("plugged_in_paused"),
				"measure_power", v(0), "meter_power", v(1520.25), "measure_current", v(0)),
			nil),
		dev(DeviceSmokeAlarm, "Smoke alarm", "sensor", ZoneKitchen, "homey:app:com.fibaro:FGSD-002", "homey:app:com.fibaro",
			[]any{"alarm_smoke", "alarm_heat", "alarm_co", "measure_temperature", "alarm_battery"},
			caps(true, at, "alarm_smoke", v(false), "alarm_heat", v(false), "alarm_co", v(false), "measure_temperature", v(21.0),
				"alarm_battery", v(false)),
			nil),
		dev(DeviceLeak, "Leak sensor", "sensor", ZoneKitchen, "homey:app:com.aqara:water_leak", "homey:app:com.aqara",
			[]any{"alarm_water", "measure_battery"},
			caps(true, at, "alarm_water", v(false), "measure_battery", v(58)),
			nil),
	}
	for _, d := range devices {
		s.AddDevice(d)
	}
}

// Animate changes the furnished home every interval until ctx ends or the
// server closes, so the demo shows live updates: it toggles the motion
// sensor, nudges the thermostat's measured temperature and varies the
// socket's power draw (adding to its energy meter). Missing devices are
// skipped.
func (s *Server) Animate(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for step := 0; ; step++ {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-t.C:
		}
		switch step % 3 {
		case 0:
			if d, ok := s.Device(DeviceMotion); ok {
				_ = s.SetCapability(DeviceMotion, "alarm_motion", capValue(d, "alarm_motion") != true)
			}
		case 1:
			if d, ok := s.Device(DeviceThermostat); ok {
				temp, _ := capValue(d, "measure_temperature").(float64)
				delta := 0.1
				if step%2 == 1 || temp > 22 {
					delta = -0.1
				}
				if temp < 18 {
					delta = 0.1
				}
				_ = s.SetCapability(DeviceThermostat, "measure_temperature", math.Round((temp+delta)*10)/10)
			}
		case 2:
			if d, ok := s.Device(DeviceSocket); ok {
				power := 0.0 // off
				if capValue(d, "onoff") == true {
					power = 3.2 // idle, alternating with brewing
					if capValue(d, "measure_power") != 1250.0 {
						power = 1250.0
					}
				}
				meter, _ := capValue(d, "meter_power").(float64)
				_ = s.SetCapability(DeviceSocket, "measure_power", power)
				_ = s.SetCapability(DeviceSocket, "meter_power", math.Round((meter+power*every.Hours()/1000)*1000)/1000)
			}
		}
	}
}

// capValue reads a capability value from a device object.
func capValue(d map[string]any, capability string) any {
	return asMap(asMap(d["capabilitiesObj"])[capability])["value"]
}

// FurnishGenerated adds n available devices of four classes in turn (light
// with dimming, metered socket, sensor with motion, temperature and
// battery, lock with battery) in the root zone, named "<prefix> device
// <i>". Each is one device.create event: furnishing n devices is O(n).
// It is the large home of benchmarks.
func (s *Server) FurnishGenerated(n int, prefix string) {
	at := time.Now().Add(-10 * time.Minute)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		d := map[string]any{"id": fmt.Sprintf("0b1e0000-0000-4000-8000-%012d", i),
			"name": fmt.Sprintf("%s device %d", prefix, i), "zone": RootZoneID}
		switch i % 4 {
		case 0:
			d["class"], d["capabilities"] = "light", []any{"onoff", "dim"}
			d["capabilitiesObj"] = caps(true, at, "onoff", v(i%8 == 0), "dim", v(0.5))
		case 1:
			d["class"], d["capabilities"] = "socket", []any{"onoff", "measure_power"}
			d["capabilitiesObj"] = caps(true, at, "onoff", v(true), "measure_power", v(3.5))
		case 2:
			d["class"], d["capabilities"] = "sensor", []any{"alarm_motion", "measure_temperature", "measure_battery"}
			d["capabilitiesObj"] = caps(true, at, "alarm_motion", v(false), "measure_temperature", v(21.5), "measure_battery", v(90))
		default:
			d["class"], d["capabilities"] = "lock", []any{"locked", "measure_battery"}
			d["capabilitiesObj"] = caps(true, at, "locked", v(true), "measure_battery", v(80))
		}
		s.addDeviceLocked(asMap(normalize(d)))
	}
}
