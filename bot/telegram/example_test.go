package telegram_test

import (
	"fmt"

	"faqbot/bot/telegram"
	"faqbot/knowledge"
	"faqbot/search"
)

func ExampleRender() {
	parts := telegram.Render(search.Answer{
		Outcome: search.Answered,
		Title:   "Log out of WhatsApp Web",
		Blocks: []knowledge.Block{
			{Kind: knowledge.Steps, Items: []string{"Open the menu (⋮)", "Choose <Log out>"}},
			{Kind: knowledge.Paragraph, Text: "Chats stay on your phone & computer."},
		},
	})
	fmt.Println(len(parts))
	fmt.Println(parts[0])
	// Output:
	// 1
	// <b>Log out of WhatsApp Web</b>
	//
	// 1. Open the menu (⋮)
	// 2. Choose &lt;Log out&gt;
	//
	// Chats stay on your phone &amp; computer.
}
