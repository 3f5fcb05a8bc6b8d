package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"faqbot/bot"
	"faqbot/bot/bottest"
	"faqbot/knowledge"
)

// TestBadInputs sends every bad input over the gateway as a direct
// message, a mention, a message in a support channel and an /ask, and
// every forged custom id as a button press, to the real engine: each gets a
// clear reply (an answer, a decline, the help, the /ask usage, a notice
// that the button is unknown) or, in the support channel, no reply when
// there is no question, within a deadline; every message is within
// Discord's limits, pings nobody and echoes nothing raw. (Discord has no
// webhook for messages: the 100 KB input is the oversized frame.)
func TestBadInputs(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	cfg := testConfig(f)
	cfg.ChannelIDs = []string{channelID}
	h := start(t, f, cfg, realEngine(t))

	inputs := bottest.BadInputs()
	type expect struct {
		name  string
		ref   string // the message the reply references, or the interaction id
		reply bool
	}
	var expects []expect
	for i, in := range inputs {
		u := user(fmt.Sprint(7000+i), false)
		dm, mention, support := fmt.Sprint("dm", i), fmt.Sprint("mention", i), fmt.Sprint("support", i)
		f.dispatch("MESSAGE_CREATE", message(dm, "4444", "", u, in.Text))
		f.dispatch("MESSAGE_CREATE", message(mention, "4445", guildID, user(fmt.Sprint(7100+i), false), mentionOf(botUserID)+" "+in.Text, user(botUserID, true)))
		f.dispatch("MESSAGE_CREATE", message(support, channelID, guildID, user(fmt.Sprint(7200+i), false), in.Text))
		ask := slashAsk(fmt.Sprint("ask", i), "zh-TW", in.Text)
		ask["member"] = map[string]any{"user": user(fmt.Sprint(7300+i), false)}
		f.dispatch("INTERACTION_CREATE", ask)
		// In a support channel, a message without a question is people
		// talking: not answered.
		question := questionOf(strings.ToValidUTF8(in.Text, "\uFFFD")) != ""
		expects = append(expects,
			expect{"DM " + in.Name, dm, true},
			expect{"mention " + in.Name, mention, true},
			expect{"support channel " + in.Name, support, question},
			expect{"/ask " + in.Name, "ask" + fmt.Sprint(i), true})
	}
	forged := bottest.ForgedPayloads()
	for i, p := range forged {
		pr := press(fmt.Sprint("press", i), p)
		pr["member"] = map[string]any{"user": user(fmt.Sprint(7400+i), false)}
		f.dispatch("INTERACTION_CREATE", pr)
	}
	f.dispatch("MESSAGE_CREATE", message("sentinel", channelID, guildID, user("7999", false), "how do I log out of WhatsApp Web"))

	replies := func() map[string]int {
		got := map[string]int{}
		for _, r := range f.sent(routeMessages) {
			if m := decode[sentMessage](t, r.Body); m.Reference != nil {
				got[m.Reference.MessageID]++
			}
		}
		for _, r := range f.sent(routeCallback) {
			id := strings.Split(strings.TrimPrefix(r.Path, "/api/v9/interactions/"), "/")[0]
			got[id]++
		}
		return got
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		got := replies()
		missing := 0
		for _, e := range expects {
			if e.reply && got[e.ref] == 0 {
				missing++
			}
		}
		for i := range forged {
			if got[fmt.Sprint("press", i)] == 0 {
				missing++
			}
		}
		if missing == 0 && got["sentinel"] > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d bad inputs unanswered after 30 s", missing)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	got := replies()
	for _, e := range expects {
		switch n := got[e.ref]; {
		case e.reply && n < 1:
			t.Errorf("%s: no reply", e.name)
		case !e.reply && n != 0:
			t.Errorf("%s: %d replies, want none", e.name, n)
		}
	}
	for i, p := range forged {
		id := fmt.Sprint("press", i)
		for _, r := range f.sent(routeCallback) {
			if !strings.Contains(r.Path, "/"+id+"/") {
				continue
			}
			cb := decode[callback](t, r.Body)
			if cb.Data == nil || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || cb.Data.Content != bot.Text(bot.MsgUnknownButton, knowledge.English) {
				t.Errorf("forged %q: %s, want an ephemeral unknown-button notice", p, r.Body)
			}
		}
	}
	for _, r := range f.allRequests() {
		switch r.Route {
		case routeCommands, routeGuildCmds, routeGateway, routeGatewayBot:
			continue
		}
		for _, p := range checkOutgoing(r) {
			t.Errorf("%s: %s", r.Route, p)
		}
		for _, text := range shownTexts(t, r) {
			for _, in := range inputs {
				if len(in.Text) >= 8 && strings.Contains(text, in.Text) {
					t.Errorf("%s echoes the %s input raw: %.100q", r.Route, in.Name, text)
				}
			}
		}
	}
	// checkNoPings runs at cleanup too.
	t.Logf("%d bad inputs × 4 and %d forged buttons: each answered or refused cleanly", len(inputs), len(forged))
}

// shownTexts returns what a request shows people: contents, embed titles
// and descriptions, button labels.
func shownTexts(t *testing.T, r request) []string {
	var msgs []*sentMessage
	switch r.Route {
	case routeMessages, routeEditOriginal, routeFollowup:
		msgs = append(msgs, decodePtr[sentMessage](t, r.Body))
	case routeCallback:
		if cb := decode[callback](t, r.Body); cb.Data != nil {
			msgs = append(msgs, cb.Data)
		}
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Content)
		for _, e := range m.Embeds {
			out = append(out, e.Title, e.Description)
		}
		for _, row := range m.Components {
			for _, c := range row.Components {
				out = append(out, c.Label)
			}
		}
	}
	return out
}
