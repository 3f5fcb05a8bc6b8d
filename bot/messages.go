package bot

import "faqbot/knowledge"

// Msg names one of the bot's own messages.
type Msg int

// The bot's own messages (not from the guides).
const (
	MsgHelp           Msg = iota // /start, /help
	MsgDidYouMean                // above clarification buttons
	MsgSlowDown                  // flood control notice
	MsgUnknownButton             // a forged or stale button
	MsgThanksFeedback            // after 👍/👎
	MsgError                     // something failed on our side
	MsgAskUsage                  // /ask without a question
	MsgCommandAsk                // description of the /ask command
	MsgCommandHelp               // description of the /help command
)

var messages = map[Msg]map[knowledge.Lang]string{
	MsgHelp: {
		knowledge.English:            "I answer questions about logging out of WhatsApp (phone, Web, desktop, linked devices) and keeping your account safe. Try asking:",
		knowledge.SimplifiedChinese:  "我可以回答有关退出 WhatsApp（手机、网页版、电脑版、已链接的设备）和账号安全的问题。你可以这样问：",
		knowledge.TraditionalChinese: "我可以回答有關登出 WhatsApp（手機、網頁版、電腦版、已連結的裝置）和帳號安全的問題。你可以這樣問：",
	},
	MsgDidYouMean: {
		knowledge.English:            "Which of these do you mean?",
		knowledge.SimplifiedChinese:  "你想问的是哪一个？",
		knowledge.TraditionalChinese: "你想問的是哪一個？",
	},
	MsgSlowDown: {
		knowledge.English:            "You're asking faster than I can answer. Please wait a few seconds.",
		knowledge.SimplifiedChinese:  "问得太快啦，请稍等几秒再问。",
		knowledge.TraditionalChinese: "問得太快啦，請稍等幾秒再問。",
	},
	MsgUnknownButton: {
		knowledge.English:            "Sorry, that button no longer works. Please ask your question again.",
		knowledge.SimplifiedChinese:  "抱歉，这个按钮已失效，请重新提问。",
		knowledge.TraditionalChinese: "抱歉，這個按鈕已失效，請重新提問。",
	},
	MsgThanksFeedback: {
		knowledge.English:            "Thanks for the feedback!",
		knowledge.SimplifiedChinese:  "谢谢你的反馈！",
		knowledge.TraditionalChinese: "謝謝你的回饋！",
	},
	MsgError: {
		knowledge.English:            "Sorry, something went wrong on my side. Please try again in a moment.",
		knowledge.SimplifiedChinese:  "抱歉，我这边出了点问题，请稍后再试。",
		knowledge.TraditionalChinese: "抱歉，我這邊出了點問題，請稍後再試。",
	},
	MsgAskUsage: {
		knowledge.English:            "Write your question after /ask, for example: /ask how do I log out of WhatsApp Web",
		knowledge.SimplifiedChinese:  "请在 /ask 后面写上问题，例如：/ask 网页版怎么退出",
		knowledge.TraditionalChinese: "請在 /ask 後面寫上問題，例如：/ask 網頁版怎麼登出",
	},
	MsgCommandAsk: {
		knowledge.English:            "Ask a question about logging out of WhatsApp",
		knowledge.SimplifiedChinese:  "提问：WhatsApp 退出登录与账号安全",
		knowledge.TraditionalChinese: "提問：WhatsApp 登出與帳號安全",
	},
	MsgCommandHelp: {
		knowledge.English:            "What this bot can answer",
		knowledge.SimplifiedChinese:  "这个机器人能回答什么",
		knowledge.TraditionalChinese: "這個機器人能回答什麼",
	},
}

// Text returns message m in lang (English when there is no translation).
func Text(m Msg, lang knowledge.Lang) string {
	if s, ok := messages[m][lang]; ok {
		return s
	}
	return messages[m][knowledge.English]
}

// Examples are example questions for the help message, per language.
var Examples = map[knowledge.Lang][]string{
	knowledge.English:            {"How do I log out of WhatsApp Web?", "How do I log out a computer from my phone?", "How do I turn on two-step verification?"},
	knowledge.SimplifiedChinese:  {"网页版怎么退出登录？", "怎么用手机把电脑上的 WhatsApp 退出？", "怎么开启两步验证？"},
	knowledge.TraditionalChinese: {"網頁版怎麼登出？", "怎麼用手機把電腦上的 WhatsApp 登出？", "怎麼開啟兩步驗證？"},
}
