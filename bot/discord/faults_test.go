package discord

import (
	"fmt"
	"strings"
	"testing"
)

// TestGatewayFaultsKeepAnswering breaks the gateway connection in each way
// Discord's can break and checks that the bot reconnects and answers: the
// questions asked while it was away come with the resumed session, and are
// answered once.
func TestGatewayFaultsKeepAnswering(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	f.heartbeatMs = 200 // a missing ACK is noticed after five intervals
	a := &stubAnswerer{}
	h := start(t, f, testConfig(f), a)

	faults := []struct {
		name string
		do   func()
		// whileAway: the question is asked before the bot is back, and
		// must come with the resumed session.
		whileAway bool
	}{
		{"connection lost (1006)", f.drop, true},
		{"closed with 4000 unknown error", func() { f.closeWith(4000) }, true},
		{"closed with 1001 going away", func() { f.closeWith(1001) }, true},
		{"op 7 reconnect", f.askReconnect, true},
		{"op 9 invalid session, resumable", func() { f.invalidSession(true) }, false},
		{"op 9 invalid session, not resumable", func() { f.invalidSession(false) }, false},
		{"heartbeat ACKs missing", f.stopAcking, false},
		{"resume refused with op 9", func() {
			f.mu.Lock()
			f.refuseResume = true
			f.mu.Unlock()
			f.drop()
		}, false},
	}
	asked := 0
	ask := func(name string, dispatch func(string, any)) {
		asked++
		dispatch("MESSAGE_CREATE", message(fmt.Sprint("m", asked), channelID, guildID, user(fmt.Sprint(6000+asked), false),
			mentionOf(botUserID)+" after "+name, user(botUserID, true)))
	}
	ask("start", f.dispatch)
	f.waitSent(t, routeMessages, asked)
	for _, fault := range faults {
		ready := f.readyCount()
		fault.do()
		if fault.whileAway {
			ask(fault.name, f.dispatchOrKeep)
		}
		waitFor(t, "the bot back after "+fault.name, func() bool { return f.readyCount() > ready })
		if !fault.whileAway {
			waitFor(t, "a live connection", func() bool {
				f.mu.Lock()
				defer f.mu.Unlock()
				return f.conn != nil
			})
			ask(fault.name, f.dispatch)
		}
		f.waitSent(t, routeMessages, asked)
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	answered := map[string]int{}
	for _, r := range f.sent(routeMessages) {
		m := decode[sentMessage](t, r.Body)
		if m.Reference == nil {
			t.Errorf("a reply without a reference: %s", r.Body)
			continue
		}
		answered[m.Reference.MessageID]++
	}
	for i := 1; i <= asked; i++ {
		if n := answered[fmt.Sprint("m", i)]; n != 1 {
			t.Errorf("question m%d answered %d times, want once", i, n)
		}
	}
	f.mu.Lock()
	resumes, identifies := f.resumes, len(f.identifies)
	f.mu.Unlock()
	if got := strings.Count(h.logs.String(), "reconnected to the gateway"); got < 5 {
		t.Errorf("%d reconnections logged, want one per lost connection (at least 5)", got)
	}
	t.Logf("%d faults survived, %d questions answered once each; %d resumes, %d identifies", len(faults), asked, resumes, identifies)
}
