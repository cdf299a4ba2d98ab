package main

import (
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
)

// clouds returns the registry of every cloud the program bridges. A new
// cloud is its folder under cloud/ and one line here.
func clouds() *cloud.Registry {
	r := cloud.NewRegistry()
	wink.Register(r)
	homey.Register(r)
	return r
}
