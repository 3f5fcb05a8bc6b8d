package discord

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/bwmarrin/discordgo"

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
)

// noMentions is the allowed_mentions of every message the bot sends:
// nothing is parsed, so nobody is pinged (not @everyone in a quoted
// question, not the user it replies to). Parse must be an empty slice, not
// nil: discordgo sends it without omitempty, and nil would go out as
// "parse": null.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// mentionPattern matches what Discord writes for a mention: users, roles,
// channels, @everyone and @here.
var mentionPattern = regexp.MustCompile(`<@[!&]?\d+>|<#\d+>|@everyone|@here`)

// questionOf returns the question in a message, without mentions.
func questionOf(content string) string {
	return strings.Join(strings.Fields(mentionPattern.ReplaceAllString(content, " ")), " ")
}

// mentions reports whether m mentions user id.
func mentions(m *discordgo.Message, id string) bool {
	if id == "" {
		return false
	}
	for _, u := range m.Mentions {
		if u != nil && u.ID == id {
			return true
		}
	}
	return strings.Contains(m.Content, "<@"+id+">") || strings.Contains(m.Content, "<@!"+id+">")
}

// pathSafe reports whether s can go into a REST path as it is. discordgo
// pastes ids and tokens into URLs unescaped; those Discord sends are
// digits, letters, '.', '_' and '-', and anything else ("/", "?", "#")
// would send the request to another endpoint.
func pathSafe(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// guessLang picks the language of the bot's own messages for a message
// with no locale: Chinese when it has Chinese characters.
func guessLang(text string) knowledge.Lang {
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			return knowledge.SimplifiedChinese
		}
	}
	return knowledge.English
}

// localeLang maps a Discord locale to a guide language ("" when there is
// none for it).
func localeLang(l discordgo.Locale) knowledge.Lang {
	lang, err := knowledge.ParseLang(string(l))
	if err != nil {
		return ""
	}
	return lang
}

func (b *Bot) onMessageCreate(_ *discordgo.Session, mc *discordgo.MessageCreate) {
	defer b.recoverPanic("message")
	m := mc.Message
	// Without a channel id that fits in a REST path, nowhere to answer.
	if b.stopping.Load() || m == nil || m.Author == nil || !pathSafe(m.ChannelID) {
		return
	}
	self := b.self()
	// Never itself, other bots, webhooks or system messages.
	if m.Author.Bot || m.Author.System || m.Author.ID == self || m.WebhookID != "" {
		return
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return
	}
	direct := m.GuildID == ""
	addressed := direct || mentions(m, self)
	if !addressed && !b.channels[m.ChannelID] {
		return
	}
	question := questionOf(m.Content)
	if question == "" && !addressed {
		// A picture, or a message whose text Discord withheld (no Message
		// Content intent): nothing to answer.
		return
	}
	switch b.limiter.Allow(m.Author.ID) {
	case bot.Drop:
		return
	case bot.Notify:
		lang := guessLang(question)
		b.spawn("slow down", func(ctx context.Context) {
			b.reply(ctx, m, TextParts(bot.Text(bot.MsgSlowDown, lang)))
		})
		return
	}
	b.spawn("message", func(ctx context.Context) {
		if question == "" {
			b.reply(ctx, m, TextParts(helpText(guessLang(m.Content))))
			return
		}
		start := time.Now()
		ans, err := b.ask(bot.WithAsker(ctx, bot.Asker{Adapter: adapterName, User: m.Author.ID}), question, "")
		if err != nil {
			b.log.Error("answering a message failed", "error", err)
			b.reply(ctx, m, TextParts(bot.Text(bot.MsgError, guessLang(question))))
			return
		}
		b.logAnswer("message", ans, start)
		b.reply(ctx, m, Render(ans))
	})
}

// reply sends parts in order, the first as a reply to m; it stops at the
// first part that fails, so nothing arrives out of order.
func (b *Bot) reply(ctx context.Context, m *discordgo.Message, parts []Part) {
	notIfGone := false
	for i, p := range parts {
		send := &discordgo.MessageSend{
			Content:         p.Content,
			Embeds:          embeds(p.Embeds),
			Components:      components(p.Components),
			AllowedMentions: noMentions(),
		}
		if i == 0 {
			// If the question was deleted meanwhile, answer all the same.
			send.Reference = &discordgo.MessageReference{MessageID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID, FailIfNotExists: &notIfGone}
		}
		err := b.call(ctx, "send message", sendOnce, func(opts ...discordgo.RequestOption) error {
			_, err := b.session.ChannelMessageSendComplex(m.ChannelID, send, opts...)
			return err
		})
		if err != nil {
			b.log.Error("sending a reply failed", "channel_id", m.ChannelID, "part", i+1, "of", len(parts), "error", err)
			return
		}
	}
}

// ask asks the engine, turning a panic into an error.
func (b *Bot) ask(ctx context.Context, question string, lang knowledge.Lang) (ans search.Answer, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("answer engine panicked: %v", r)
		}
	}()
	var opts []search.AskOption
	if lang != "" {
		opts = append(opts, search.WithLangHint(lang))
	}
	return b.answerer.Answer(ctx, question, opts...)
}

// errStaleChoice is a clarification button for an entry that is gone.
var errStaleChoice = errors.New("no such entry")

// lookup returns entry id in lang, the choice of a clarification's
// button (ctx carries who pressed it), turning a panic into an error.
func (b *Bot) lookup(ctx context.Context, id string, lang knowledge.Lang) (ans search.Answer, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("answer engine panicked: %v", r)
		}
	}()
	ans, err = b.answerer.Lookup(ctx, id, lang)
	if err != nil {
		return ans, fmt.Errorf("%w: %w", errStaleChoice, err)
	}
	return ans, nil
}

// logAnswer logs what was answered, not what was asked.
func (b *Bot) logAnswer(via string, a search.Answer, start time.Time) {
	b.log.Debug("answered", "via", via, "outcome", a.Outcome, "entry", a.ID, "lang", a.Lang,
		"confidence", a.Confidence, "took", time.Since(start))
}

func (b *Bot) onInteractionCreate(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
	defer b.recoverPanic("interaction")
	i := ic.Interaction
	// Without its ids and token an interaction cannot be answered.
	if b.stopping.Load() || i == nil || !pathSafe(i.ID) || !pathSafe(i.Token) || !pathSafe(i.AppID) {
		return
	}
	user := interactionUser(i)
	if user == nil || user.Bot {
		return
	}
	lang := localeLang(i.Locale)
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		// Not i.ApplicationCommandData(): it panics when the data did not
		// decode (discordgo hands over what it could read).
		data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
		if !ok || !b.allowInteraction(i, user.ID, lang) {
			return
		}
		switch data.Name {
		case commandAsk:
			question := ""
			if o := data.GetOption(optionQuestion); o != nil {
				// Not o.StringValue(): it panics on a value that is not a string.
				if s, ok := o.Value.(string); ok && o.Type == discordgo.ApplicationCommandOptionString {
					question = strings.TrimSpace(s)
				}
			}
			if question == "" {
				b.spawn("ask usage", func(ctx context.Context) { b.ephemeral(ctx, i, bot.Text(bot.MsgAskUsage, lang)) })
				return
			}
			b.spawn("ask", func(ctx context.Context) {
				b.answerInteraction(ctx, i, false, lang, func(ctx context.Context) (search.Answer, error) {
					return b.ask(bot.WithAsker(ctx, bot.Asker{Adapter: adapterName, User: user.ID}), question, lang)
				})
			})
		case commandHelp:
			b.spawn("help", func(ctx context.Context) { b.ephemeral(ctx, i, helpText(lang)) })
		}
	case discordgo.InteractionMessageComponent:
		data, _ := i.Data.(discordgo.MessageComponentInteractionData) // as above
		p, err := bot.ParsePayload(data.CustomID)
		if err == nil {
			lang = p.Lang // the language of the message the button is on
		}
		if !b.allowInteraction(i, user.ID, lang) {
			return
		}
		if err != nil {
			b.spawn("unknown button", func(ctx context.Context) { b.ephemeral(ctx, i, bot.Text(bot.MsgUnknownButton, lang)) })
			return
		}
		switch p.Action {
		case bot.Choose:
			b.spawn("choose", func(ctx context.Context) {
				b.answerInteraction(ctx, i, true, p.Lang, func(ctx context.Context) (search.Answer, error) {
					return b.lookup(bot.WithAsker(ctx, bot.Asker{Adapter: adapterName, User: user.ID}), p.ID, p.Lang)
				})
			})
		case bot.Helpful, bot.Unhelpful:
			b.spawn("feedback", func(ctx context.Context) {
				f := bot.Feedback{Adapter: adapterName, User: user.ID, EntryID: p.ID, Lang: p.Lang, Helpful: p.Action == bot.Helpful, Time: time.Now()}
				if err := b.sink.RecordFeedback(ctx, f); err != nil {
					// Not thanked for a vote that was lost: they may try again.
					b.log.Error("recording feedback failed", "entry", p.ID, "error", err)
					b.ephemeral(ctx, i, bot.Text(bot.MsgError, p.Lang))
					return
				}
				b.ephemeral(ctx, i, bot.Text(bot.MsgThanksFeedback, p.Lang))
			})
		}
	}
}

// allowInteraction applies flood control to an interaction, telling the
// user (once per flood, only to them) to slow down.
func (b *Bot) allowInteraction(i *discordgo.Interaction, user string, lang knowledge.Lang) bool {
	switch b.limiter.Allow(user) {
	case bot.Allowed:
		return true
	case bot.Notify:
		b.spawn("slow down", func(ctx context.Context) { b.ephemeral(ctx, i, bot.Text(bot.MsgSlowDown, lang)) })
	}
	return false
}

func interactionUser(i *discordgo.Interaction) *discordgo.User {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User
	}
	return i.User
}

// answerInteraction answers an interaction with get's answer: at once if
// it is ready within DeferAfter, otherwise with a deferral (Discord shows
// "thinking…") and an edit when it is. update replaces the message the
// pressed button is on instead of posting a new one. Failures are shown
// ephemerally, to the user alone.
func (b *Bot) answerInteraction(ctx context.Context, i *discordgo.Interaction, update bool, lang knowledge.Lang, get func(context.Context) (search.Answer, error)) {
	type result struct {
		ans search.Answer
		err error
	}
	start := time.Now()
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- result{err: fmt.Errorf("answer engine panicked: %v", r)}
			}
		}()
		a, err := get(ctx)
		ch <- result{a, err}
	}()

	var res result
	deferred := false
	timer := time.NewTimer(b.cfg.DeferAfter)
	defer timer.Stop()
	select {
	case res = <-ch:
	case <-timer.C:
		typ := discordgo.InteractionResponseDeferredChannelMessageWithSource
		if update {
			typ = discordgo.InteractionResponseDeferredMessageUpdate
		}
		err := b.call(ctx, "defer interaction", safeToRepeat, func(opts ...discordgo.RequestOption) error {
			return b.session.InteractionRespond(i, &discordgo.InteractionResponse{Type: typ}, opts...)
		})
		if err != nil {
			b.log.Error("deferring an interaction failed", "error", err)
			return
		}
		deferred = true
		select {
		case res = <-ch:
		case <-ctx.Done():
			res = result{err: ctx.Err()}
		}
	}

	if res.err != nil {
		msg := bot.MsgError
		if errors.Is(res.err, errStaleChoice) {
			msg = bot.MsgUnknownButton
		} else {
			b.log.Error("answering an interaction failed", "error", res.err)
		}
		b.interactionFailed(ctx, i, deferred, update, bot.Text(msg, lang))
		return
	}
	b.logAnswer(i.Type.String(), res.ans, start)
	parts := Render(res.ans)
	first := parts[0]
	var err error
	if !deferred {
		typ := discordgo.InteractionResponseChannelMessageWithSource
		if update {
			typ = discordgo.InteractionResponseUpdateMessage
		}
		err = b.call(ctx, "respond to interaction", safeToRepeat, func(opts ...discordgo.RequestOption) error {
			return b.session.InteractionRespond(i, &discordgo.InteractionResponse{Type: typ, Data: responseData(first)}, opts...)
		})
	} else {
		err = b.call(ctx, "edit interaction response", safeToRepeat, func(opts ...discordgo.RequestOption) error {
			_, err := b.session.InteractionResponseEdit(i, webhookEdit(first), opts...)
			return err
		})
	}
	if err != nil {
		b.log.Error("answering an interaction failed", "error", err)
		return
	}
	for n, p := range parts[1:] {
		if err := b.followup(ctx, i, p, 0); err != nil {
			b.log.Error("sending the rest of an answer failed", "part", n+2, "of", len(parts), "error", err)
			return
		}
	}
}

// interactionFailed tells the user alone that something failed. After a
// deferral, the public "thinking…" message is deleted first.
func (b *Bot) interactionFailed(ctx context.Context, i *discordgo.Interaction, deferred, update bool, text string) {
	if !deferred {
		b.ephemeral(ctx, i, text)
		return
	}
	if !update {
		err := b.call(ctx, "delete interaction response", safeToRepeat, func(opts ...discordgo.RequestOption) error {
			return b.session.InteractionResponseDelete(i, opts...)
		})
		if err != nil {
			b.log.Warn("deleting a deferred response failed", "error", err)
		}
	}
	for _, p := range TextParts(text) {
		if err := b.followup(ctx, i, p, discordgo.MessageFlagsEphemeral); err != nil {
			b.log.Error("sending an error message failed", "error", err)
			return
		}
	}
}

// ephemeral responds to an interaction with text only its user sees.
func (b *Bot) ephemeral(ctx context.Context, i *discordgo.Interaction, text string) {
	parts := TextParts(text)
	if len(parts) == 0 {
		return
	}
	data := responseData(parts[0])
	data.Flags = discordgo.MessageFlagsEphemeral
	err := b.call(ctx, "respond to interaction", safeToRepeat, func(opts ...discordgo.RequestOption) error {
		return b.session.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data}, opts...)
	})
	if err != nil {
		b.log.Error("responding to an interaction failed", "error", err)
		return
	}
	for _, p := range parts[1:] {
		if err := b.followup(ctx, i, p, discordgo.MessageFlagsEphemeral); err != nil {
			b.log.Error("sending a follow-up failed", "error", err)
			return
		}
	}
}

func (b *Bot) followup(ctx context.Context, i *discordgo.Interaction, p Part, flags discordgo.MessageFlags) error {
	params := &discordgo.WebhookParams{
		Content:         p.Content,
		Embeds:          p.Embeds,
		Components:      components(p.Components),
		AllowedMentions: noMentions(),
		Flags:           flags,
	}
	return b.call(ctx, "send follow-up", sendOnce, func(opts ...discordgo.RequestOption) error {
		_, err := b.session.FollowupMessageCreate(i, true, params, opts...)
		return err
	})
}

// responseData is a part as an interaction response. Empty lists are sent
// as [] so that an updated message loses its old embeds and buttons.
func responseData(p Part) *discordgo.InteractionResponseData {
	return &discordgo.InteractionResponseData{
		Content:         p.Content,
		Embeds:          embeds(p.Embeds),
		Components:      components(p.Components),
		AllowedMentions: noMentions(),
	}
}

func webhookEdit(p Part) *discordgo.WebhookEdit {
	content := p.Content
	e := embeds(p.Embeds)
	c := components(p.Components)
	return &discordgo.WebhookEdit{Content: &content, Embeds: &e, Components: &c, AllowedMentions: noMentions()}
}

func embeds(e []*discordgo.MessageEmbed) []*discordgo.MessageEmbed {
	if e == nil {
		return []*discordgo.MessageEmbed{}
	}
	return e
}

func components(c []discordgo.MessageComponent) []discordgo.MessageComponent {
	if c == nil {
		return []discordgo.MessageComponent{}
	}
	return c
}
