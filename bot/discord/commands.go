package discord

import (
	"context"

	"github.com/bwmarrin/discordgo"

	"faqbot/bot"
	"faqbot/knowledge"
)

// The slash commands and the option of /ask. Their names stay the same in
// every language: the bot's own messages tell users to type "/ask".
const (
	commandAsk     = "ask"
	commandHelp    = "help"
	optionQuestion = "question"
)

// maxQuestion bounds the length of /ask's question, as Discord checks it.
const maxQuestion = 500

// optionDescription describes /ask's question option.
var optionDescription = map[knowledge.Lang]string{
	knowledge.English:            "Your question, for example: how do I log out of WhatsApp Web",
	knowledge.SimplifiedChinese:  "你的问题，例如：网页版怎么退出",
	knowledge.TraditionalChinese: "你的問題，例如：網頁版怎麼登出",
}

// localized returns text in Discord's English and Chinese locales.
func localized(text func(knowledge.Lang) string) *map[discordgo.Locale]string {
	m := map[discordgo.Locale]string{
		discordgo.EnglishUS: text(knowledge.English),
		discordgo.EnglishGB: text(knowledge.English),
		discordgo.ChineseCN: text(knowledge.SimplifiedChinese),
		discordgo.ChineseTW: text(knowledge.TraditionalChinese),
	}
	return &m
}

// Commands returns the slash commands the bot registers: /ask with a
// required question, and /help; descriptions in English and Chinese.
func Commands() []*discordgo.ApplicationCommand {
	msg := func(m bot.Msg) func(knowledge.Lang) string {
		return func(l knowledge.Lang) string { return bot.Text(m, l) }
	}
	contexts := []discordgo.InteractionContextType{discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM}
	return []*discordgo.ApplicationCommand{
		{
			Type:                     discordgo.ChatApplicationCommand,
			Name:                     commandAsk,
			Description:              bot.Text(bot.MsgCommandAsk, knowledge.English),
			DescriptionLocalizations: localized(msg(bot.MsgCommandAsk)),
			Contexts:                 &contexts,
			Options: []*discordgo.ApplicationCommandOption{{
				Type:                     discordgo.ApplicationCommandOptionString,
				Name:                     optionQuestion,
				Description:              optionDescription[knowledge.English],
				DescriptionLocalizations: *localized(func(l knowledge.Lang) string { return optionDescription[l] }),
				Required:                 true,
				MaxLength:                maxQuestion,
			}},
		},
		{
			Type:                     discordgo.ChatApplicationCommand,
			Name:                     commandHelp,
			Description:              bot.Text(bot.MsgCommandHelp, knowledge.English),
			DescriptionLocalizations: localized(msg(bot.MsgCommandHelp)),
			Contexts:                 &contexts,
		},
	}
}

// registerCommands replaces the application's slash commands with
// Commands(), in the configured guild or globally. A failure is logged, not
// fatal: mentions and direct messages work without the commands.
func (b *Bot) registerCommands(ctx context.Context) {
	app := ""
	if p := b.appID.Load(); p != nil {
		app = *p
	}
	if app == "" {
		b.log.Error("cannot register slash commands: READY named no application")
		return
	}
	cmds := Commands()
	err := b.call(ctx, "register slash commands", safeToRepeat, func(opts ...discordgo.RequestOption) error {
		_, err := b.session.ApplicationCommandBulkOverwrite(app, b.cfg.GuildID, cmds, opts...)
		return err
	})
	scope := "global"
	if b.cfg.GuildID != "" {
		scope = "guild " + b.cfg.GuildID
	}
	if err != nil {
		hint := ""
		if statusOf(err) == 403 {
			hint = "; invite the bot with the applications.commands scope"
			if b.cfg.GuildID != "" {
				hint += " and check that it is in guild " + b.cfg.GuildID
			}
		}
		b.log.Error("registering slash commands failed"+hint, "scope", scope, "error", err)
		return
	}
	b.log.Info("registered slash commands", "scope", scope, "commands", len(cmds))
}
