package collector

// Recording is what a recorder observed for one sandbox run.
type Recording struct {
	Attempts   []Attempt
	Collection Collection
}

// Source is a live recorder of attempts, such as the eBPF probe in
// collector/probe, the DNS stub, or a sandbox driver's recorder made of
// both (sandbox/netns). Snapshot may be called any number of times; Close
// releases kernel resources and must be called.
type Source interface {
	Snapshot() (Recording, error)
	Close() error
}
