package telegramtest

import "strconv"

// Updates, as Telegram sends them, for Push. Ids are int64, as the fake
// reads them back.

// Group is the chat id of GroupMessage's supergroup.
const Group int64 = -1001234

// User is a Telegram user; lang is its language_code ("" for none).
func User(id int64, lang string) map[string]any {
	u := map[string]any{"id": id, "is_bot": false, "first_name": "User" + strconv.FormatInt(id, 10)}
	if lang != "" {
		u["language_code"] = lang
	}
	return u
}

// PrivateMessage is a text message from user from in their private chat
// with the bot.
func PrivateMessage(from int64, lang, text string) map[string]any {
	return map[string]any{"message": map[string]any{
		"date": 1, "chat": map[string]any{"id": from, "type": "private"},
		"from": User(from, lang), "text": text,
	}}
}

// GroupMessage is a text message from user from in the supergroup Group.
func GroupMessage(from int64, text string) map[string]any {
	return map[string]any{"message": map[string]any{
		"date": 1, "chat": map[string]any{"id": Group, "type": "supergroup", "title": "Group"},
		"from": User(from, "en"), "text": text,
	}}
}

// With sets a field of an update's message.
func With(u map[string]any, key string, v any) map[string]any {
	u["message"].(map[string]any)[key] = v
	return u
}

// Entity is a message entity.
func Entity(typ string, offset, length int) map[string]any {
	return map[string]any{"type": typ, "offset": offset, "length": length}
}

// Callback is a press of a button carrying data, on message msgID in
// chat, by user from.
func Callback(id string, from int64, lang string, chat int64, chatType string, msgID int, data string) map[string]any {
	return map[string]any{"callback_query": map[string]any{
		"id": id, "from": User(from, lang), "chat_instance": "ci", "data": data,
		"message": map[string]any{
			"message_id": msgID, "date": 1, "text": "…",
			"chat": map[string]any{"id": chat, "type": chatType},
			"from": map[string]any{"id": BotID, "is_bot": true, "first_name": "FAQ"},
		},
	}}
}
