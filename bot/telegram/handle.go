package telegram

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"faqbot/bot"
	"faqbot/search"
)

// job is the slow part of handling one update (answering, sending), run in
// its own goroutine. apologize, when set, tells the user something went
// wrong if run panics.
type job struct {
	update    int64
	run       func(ctx context.Context)
	apologize func(ctx context.Context)
}

// dispatch decides quickly what an update needs and starts a goroutine for
// the slow part, once a slot is free: answers run concurrently across users,
// at most MaxInFlight at a time. An update delivered twice is handled once.
// dispatch reports false when the update was not taken (the bot is not
// running, or ctx ended while waiting for a slot), so a webhook can ask
// Telegram to deliver it again. A panic is recovered, logged, and costs only
// this update.
//
// finished, when not nil, is called once the update needs nothing more:
// its answer sent, or given up (a refusal from Telegram, retries
// exhausted), or nothing to do. It is not called for an update not taken,
// nor for one whose answer was cancelled at the shutdown timeout: those
// must come again.
func (b *Bot) dispatch(ctx context.Context, upd *models.Update, finished func()) (accepted bool) {
	if finished == nil {
		finished = func() {}
	}
	spawned := false
	defer func() {
		if p := recover(); p != nil {
			b.logPanic(upd.ID, p)
			accepted = true // handled, badly: taking it again would panic again
		}
		if accepted && !spawned {
			finished()
		}
	}()
	if !b.running() {
		return false
	}
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	release := true
	defer func() {
		if release {
			<-b.slots
		}
	}()
	b.mu.RLock() // against drain: no inflight.Add once it waits
	defer b.mu.RUnlock()
	if b.state != stateRunning {
		return false
	}
	if !b.updates.add(strconv.FormatInt(upd.ID, 10)) {
		// Delivered again (a webhook retry): taken already, and finished
		// by the first delivery's job.
		spawned = true
		return true
	}
	j := b.plan(upd)
	if j == nil {
		return true
	}
	b.inflight.Add(1)
	release, spawned = false, true
	work := b.work
	go func() {
		defer b.inflight.Done()
		defer func() { <-b.slots }()
		b.runJob(work, j)
		if work.Err() == nil {
			finished()
		}
	}()
	return true
}

func (b *Bot) running() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.state == stateRunning
}

func (b *Bot) runJob(ctx context.Context, j *job) {
	defer func() {
		if p := recover(); p != nil {
			b.logPanic(j.update, p)
			if j.apologize != nil {
				defer func() {
					if p := recover(); p != nil {
						b.logPanic(j.update, p)
					}
				}()
				j.apologize(ctx)
			}
		}
	}()
	j.run(ctx)
}

func (b *Bot) logPanic(update int64, p any) {
	b.log.Error("panic while handling an update; serving on", "update", update, "panic", b.redactor.String(fmt.Sprint(p)), "stack", string(debug.Stack()))
}

// plan returns the work an update needs, or nil for none. It runs on the
// polling loop (or the webhook request), so it must be quick: no I/O.
func (b *Bot) plan(upd *models.Update) *job {
	me := b.me.Load()
	if me == nil {
		return nil
	}
	switch {
	case upd.Message != nil:
		return b.planMessage(upd.ID, upd.Message, *me)
	case upd.CallbackQuery != nil:
		cq := upd.CallbackQuery
		return &job{update: upd.ID, run: func(ctx context.Context) { b.onCallback(ctx, cq) }}
	}
	return nil
}

func (b *Bot) planMessage(update int64, m *models.Message, me identity) *job {
	r := routeMessage(m, me)
	if r.intent == ignore {
		return nil
	}
	to := replyTo(m)
	lang := uiLang(m.From)
	j := &job{update: update, apologize: func(ctx context.Context) {
		b.sendLogged(ctx, to, renderText(bot.Text(bot.MsgError, lang)), nil)
	}}
	switch b.users.Allow(strconv.FormatInt(m.From.ID, 10)) {
	case bot.Drop:
		return nil
	case bot.Notify:
		j.run = func(ctx context.Context) { b.sendLogged(ctx, to, renderText(bot.Text(bot.MsgSlowDown, lang)), nil) }
		return j
	}
	switch r.intent {
	case help:
		j.run = func(ctx context.Context) { b.sendLogged(ctx, to, renderHelp(lang), nil) }
	case askUsage:
		j.run = func(ctx context.Context) { b.sendLogged(ctx, to, renderText(bot.Text(bot.MsgAskUsage, lang)), nil) }
	case question:
		hint, hasHint := userLang(m.From)
		j.run = func(ctx context.Context) {
			var opts []search.AskOption
			if hasHint {
				opts = append(opts, search.WithLangHint(hint))
			}
			asker := bot.Asker{Adapter: adapterName, User: strconv.FormatInt(m.From.ID, 10)}
			ans, err := b.answerer.Answer(bot.WithAsker(ctx, asker), r.question, opts...)
			if err != nil {
				if ctx.Err() == nil {
					b.log.Error("answer engine failed", "update", update, "err", err)
				}
				b.sendLogged(ctx, to, renderText(bot.Text(bot.MsgError, lang)), nil)
				return
			}
			b.log.Debug("question", "update", update, "chat_type", m.Chat.Type, "outcome", ans.Outcome, "entry", ans.ID, "lang", ans.Lang, "confidence", ans.Confidence)
			b.sendAnswer(ctx, to, ans)
		}
	}
	return j
}

// target is where a reply goes.
type target struct {
	chat    int64
	private bool
	thread  int // forum topic, or 0
	replyTo int // message id, or 0
}

func replyTo(m *models.Message) target {
	t := target{chat: m.Chat.ID, private: m.Chat.Type == models.ChatTypePrivate, replyTo: m.ID}
	if m.IsTopicMessage {
		t.thread = m.MessageThreadID
	}
	return t
}

// sendAnswer sends an answer with its buttons: the choices of a
// clarification, or 👍/👎 under an answer.
func (b *Bot) sendAnswer(ctx context.Context, to target, ans search.Answer) {
	var markup any
	switch ans.Outcome {
	case search.Clarify:
		kb := clarifyKeyboard(ans)
		if kb == nil {
			// No choice fits in a button: answer with the best one.
			ans.Outcome = search.Answered
			b.sendAnswer(ctx, to, ans)
			return
		}
		markup = kb
	case search.Answered:
		if kb := feedbackKeyboard(ans); kb != nil {
			markup = kb
		}
	}
	parts := Render(ans)
	if len(parts) == 0 {
		parts = renderText(bot.Text(bot.MsgError, ans.Lang))
	}
	b.sendLogged(ctx, to, parts, markup)
}

// sendLogged sends parts in order, buttons under the last one, and logs a
// failure: the user cannot be told that a message did not arrive.
func (b *Bot) sendLogged(ctx context.Context, to target, parts []string, markup any) {
	if err := b.send(ctx, to, parts, markup); err != nil && ctx.Err() == nil {
		b.log.Warn("reply not sent", "chat_private", to.private, "err", err)
	}
}

func (b *Bot) send(ctx context.Context, to target, parts []string, markup any) error {
	for i, text := range parts {
		if err := b.pacer.wait(ctx, to.chat, to.private); err != nil {
			return fmt.Errorf("part %d of %d: %w", i+1, len(parts), err)
		}
		p := &tgbot.SendMessageParams{
			ChatID:             to.chat,
			MessageThreadID:    to.thread,
			Text:               text,
			ParseMode:          models.ParseModeHTML,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
		}
		if to.replyTo != 0 {
			p.ReplyParameters = &models.ReplyParameters{MessageID: to.replyTo, AllowSendingWithoutReply: true}
		}
		if i == len(parts)-1 && markup != nil {
			p.ReplyMarkup = markup
		}
		err := b.call(ctx, "sendMessage", func(ctx context.Context) error {
			_, err := b.api.SendMessage(ctx, p)
			return err
		})
		if err != nil {
			return fmt.Errorf("part %d of %d: %w", i+1, len(parts), err)
		}
	}
	return nil
}

// onCallback handles a button press. Telegram shows a spinner on the button
// until answerCallbackQuery, so it is called exactly once whatever happens,
// with a short notice when the button is unknown, forged or stale.
func (b *Bot) onCallback(ctx context.Context, cq *models.CallbackQuery) {
	lang := uiLang(&cq.From)
	answered := false
	answer := func(text string) {
		if answered {
			return
		}
		answered = true
		err := b.call(ctx, "answerCallbackQuery", func(ctx context.Context) error {
			_, err := b.api.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID, Text: text})
			return err
		})
		if err != nil && ctx.Err() == nil {
			b.log.Warn("answerCallbackQuery failed", "err", err)
		}
	}
	defer func() {
		if !answered {
			answer(bot.Text(bot.MsgError, lang))
		}
	}()

	p, err := bot.ParsePayload(cq.Data)
	to, hasChat := callbackTarget(cq)
	if err != nil || !hasChat {
		b.log.Debug("unknown button", "err", err)
		answer(bot.Text(bot.MsgUnknownButton, lang))
		return
	}
	user := strconv.FormatInt(cq.From.ID, 10)
	switch p.Action {
	case bot.Choose:
		switch b.users.Allow(user) {
		case bot.Drop:
			answer("")
			return
		case bot.Notify:
			answer(bot.Text(bot.MsgSlowDown, lang))
			return
		}
		// The look-up is the choice (a runtime records it): made only for
		// a press that is answered, with who pressed.
		ans, err := b.answerer.Lookup(bot.WithAsker(ctx, bot.Asker{Adapter: adapterName, User: user}), p.ID, p.Lang)
		if err != nil {
			b.log.Debug("button for an unknown entry", "entry", p.ID, "lang", p.Lang)
			answer(bot.Text(bot.MsgUnknownButton, lang))
			return
		}
		answer("")
		b.sendAnswer(ctx, to, ans)
	case bot.Helpful, bot.Unhelpful:
		// A vote names its entry without a look-up (which would count as a
		// choice): an entry a reload removed since keeps its votes on the
		// answers it gave. One vote per user and message (votes) bounds
		// what forged buttons could add.
		vote := fmt.Sprintf("%d/%d/%s", to.chat, to.replyTo, user)
		if !b.votes.add(vote) {
			answer(bot.Text(bot.MsgThanksFeedback, p.Lang)) // counted once
			return
		}
		err := b.sink.RecordFeedback(ctx, bot.Feedback{
			Adapter: adapterName, User: user, EntryID: p.ID, Lang: p.Lang,
			Helpful: p.Action == bot.Helpful, Time: time.Now(),
		})
		if err != nil {
			b.votes.forget(vote) // they may try again
			b.log.Error("feedback not recorded", "entry", p.ID, "err", err)
			answer(bot.Text(bot.MsgError, p.Lang))
			return
		}
		answer(bot.Text(bot.MsgThanksFeedback, p.Lang))
		if to.private {
			// One user, one vote: take the buttons away. In a group the
			// others may still vote.
			b.removeButtons(ctx, to)
		}
	}
}

// callbackTarget is the chat of the message whose button was pressed, with
// a reply to that message.
func callbackTarget(cq *models.CallbackQuery) (target, bool) {
	switch {
	case cq.Message.Message != nil:
		m := cq.Message.Message
		t := target{chat: m.Chat.ID, private: m.Chat.Type == models.ChatTypePrivate, replyTo: m.ID}
		if m.IsTopicMessage {
			t.thread = m.MessageThreadID
		}
		return t, m.Chat.ID != 0
	case cq.Message.InaccessibleMessage != nil:
		m := cq.Message.InaccessibleMessage
		return target{chat: m.Chat.ID, private: m.Chat.Type == models.ChatTypePrivate, replyTo: m.MessageID}, m.Chat.ID != 0
	}
	return target{}, false
}

func (b *Bot) removeButtons(ctx context.Context, to target) {
	err := b.call(ctx, "editMessageReplyMarkup", func(ctx context.Context) error {
		_, err := b.api.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{
			ChatID: to.chat, MessageID: to.replyTo, ReplyMarkup: keyboard{InlineKeyboard: [][]button{}},
		})
		return err
	})
	if err != nil && ctx.Err() == nil {
		b.log.Debug("feedback buttons not removed", "err", err)
	}
}

// keyboard and button are Telegram's inline keyboard with only the fields
// used here. The library's InlineKeyboardButton always sends an empty
// copy_text object, which Telegram may refuse (BUTTON_COPY_TEXT_INVALID).
type keyboard struct {
	InlineKeyboard [][]button `json:"inline_keyboard"`
}

type button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// maxChoices is how many choices a clarification offers.
const maxChoices = 3

// clarifyKeyboard offers the best entry and the alternatives, one per row,
// at most maxChoices; nil when none fits in a button.
func clarifyKeyboard(a search.Answer) *keyboard {
	choices := append([]search.Candidate{{ID: a.ID, Title: a.Title}}, a.Alternatives...)
	kb := &keyboard{}
	seen := map[string]bool{}
	for _, c := range choices {
		if len(kb.InlineKeyboard) == maxChoices {
			break
		}
		data := bot.Payload{Action: bot.Choose, ID: c.ID, Lang: a.Lang}.Encode()
		if c.ID == "" || seen[c.ID] || !validPayload(data) {
			continue
		}
		seen[c.ID] = true
		kb.InlineKeyboard = append(kb.InlineKeyboard, []button{{Text: buttonText(c.Title, c.ID), CallbackData: data}})
	}
	if len(kb.InlineKeyboard) == 0 {
		return nil
	}
	return kb
}

// feedbackKeyboard is the 👍/👎 row under an answer.
func feedbackKeyboard(a search.Answer) *keyboard {
	up := bot.Payload{Action: bot.Helpful, ID: a.ID, Lang: a.Lang}.Encode()
	down := bot.Payload{Action: bot.Unhelpful, ID: a.ID, Lang: a.Lang}.Encode()
	if !validPayload(up) || !validPayload(down) {
		return nil
	}
	return &keyboard{InlineKeyboard: [][]button{{{Text: "👍", CallbackData: up}, {Text: "👎", CallbackData: down}}}}
}

// validPayload: the payload reads back, and fits in Telegram's 64 bytes of
// callback data.
func validPayload(data string) bool {
	_, err := bot.ParsePayload(data)
	return err == nil && len(data) <= 64
}

// buttonText is a choice's label: its title, shortened to fit a button.
func buttonText(title, id string) string {
	const maxRunes = 60
	if title == "" {
		title = id
	}
	r := []rune(title)
	if len(r) > maxRunes {
		return string(r[:maxRunes-1]) + "…"
	}
	return title
}
