package bridge

// CommandResult is how a command received on a /set topic ended.
type CommandResult string

// Command results told to Options.OnCommand.
const (
	CommandOK       CommandResult = "ok"       // the cloud accepted the change
	CommandRejected CommandResult = "rejected" // invalid: never sent to the cloud
	CommandFailed   CommandResult = "failed"   // the cloud call failed
)

// observeCommand tells Options.OnCommand, when set, how a command ended.
func (b *Bridge) observeCommand(account string, result CommandResult) {
	if b.opts.OnCommand != nil {
		b.opts.OnCommand(account, result)
	}
}
