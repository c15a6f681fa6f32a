"""The chat's own phrases in the reader's language: Russian for a ru* Telegram app, else English.

Each phrase is looked up by its English text, with {fields} filled in after the lookup, so a
value (a title, a query) never changes which phrase is chosen. A phrase missing from the table
fails in English as in Russian: no reply can go out half translated.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.text.plural import counted, ru_counted

EN, RU = "en", "ru"

# English phrase -> Russian phrase; fields ({n}, {label}…) are the same in both.
_RU = {
    # -- the command menu and /help --------------------------------------------------------------
    "newest articles: /latest [N] [topic or tag]": "новые статьи: /latest [N] [тема или тег]",
    "search the archive: /search words": "поиск по архиву: /search слова",
    "the topics articles are sorted into": "темы, по которым разложены статьи",
    "the sites I follow": "сайты, за которыми я слежу",
    'alerts here: /subscribe topic, tag, source or "phrase"': (
        'оповещения сюда: /subscribe тема, тег, источник или "фраза"'
    ),
    "stop an alert (or: /unsubscribe all)": "отменить подписку (или все: /unsubscribe all)",
    "your alerts": "ваши подписки",
    "what I can do": "что я умею",
    "health at a glance": "состояние вкратце",
    "stop polling a source: /pause KEY": "перестать опрашивать источник: /pause КЛЮЧ",
    "poll a paused source again: /resume KEY": ("снова опрашивать источник на паузе: /resume КЛЮЧ"),
    "queue failed and uncertain posts again": "снова отправить неудавшиеся и неясные публикации",
    "<b>presswatch</b> follows official press releases and keeps an archive.": (
        "<b>presswatch</b> следит за официальными пресс-релизами и хранит их архив."
    ),
    "<b>Operator</b>": "<b>Оператору</b>",
    # -- /latest and /search ----------------------------------------------------------------------
    "No topic or tag is called “{word}”. /topics lists them.": (
        "Темы или тега «{word}» нет. Список: /topics."
    ),
    "N is 1 to {n}: /latest 3 shows the newest 3.": "N — от 1 до {n}: /latest 3 покажет последние 3.",
    " on {label}": " по теме «{label}»",
    " about {label}": " по тегу «{label}»",
    "No articles{about} yet.": "Статей{about} пока нет.",
    "<b>Latest{about}</b>": "<b>Новое{about}</b>",
    "also {names}": "также {names}",
    (
        "Tell me what to look for, e.g. <code>/search CSTO summit</code>; "
        "<code>A OR B</code> finds either, <code>-word</code> leaves it out."
    ): (
        "Напишите, что искать, например: <code>/search саммит ОДКБ</code>; "
        "<code>А OR Б</code> — любое из двух, <code>-слово</code> — без него."
    ),
    "Nothing found for “{query}”.": "По запросу «{query}» ничего не найдено.",
    "<b>Found for “{query}”</b>": "<b>Найдено по запросу «{query}»</b>",
    "That query is too long: {n} characters at most.": (
        "Слишком длинный запрос: не больше {n} символов."
    ),
    "I could not run that search; try plain words.": (
        "Не получилось выполнить поиск: попробуйте простые слова."
    ),
    "…and {n} more": "…и ещё {n}",
    # -- /topics and /sources ---------------------------------------------------------------------
    "No topics are configured.": "Темы не настроены.",
    "<b>Topics</b> (for /latest and /subscribe)": "<b>Темы</b> (для /latest и /subscribe)",
    "<b>Tags</b> (organisations, countries, people; also for /latest and /subscribe)": (
        "<b>Теги</b> (организации, страны, люди; тоже для /latest и /subscribe)"
    ),
    "<b>Sources</b>": "<b>Источники</b>",
    "No sources are configured.": "Источники не настроены.",
    # -- alerts -----------------------------------------------------------------------------------
    "You have no alerts.": "У вас нет подписок.",
    "<b>Your alerts</b>": "<b>Ваши подписки</b>",
    "To stop them all: /unsubscribe all": "Отменить все: /unsubscribe all",
    "(paused: I no longer follow it)": "(приостановлена: я больше за этим не слежу)",
    "Follow a topic, a tag, a source or a phrase: {examples}.": (
        "Подпишитесь на тему, тег, источник или фразу: {examples}."
    ),
    '<code>/subscribe "border guards"</code>': '<code>/subscribe "пограничники"</code>',
    "A phrase needs 2 to {n} characters, in quotes.": "Фраза — от 2 до {n} символов, в кавычках.",
    "I know no topic, tag or source called “{text}”. /topics and /sources list them; put a "
    'phrase in quotes: <code>/subscribe "{text}"</code>.': (
        "Темы, тега или источника «{text}» я не знаю. Списки: /topics и /sources; фразу возьмите "
        'в кавычки: <code>/subscribe "{text}"</code>.'
    ),
    "Alerts arrive in a private chat: message me directly and send /subscribe there.": (
        "Оповещения приходят в личный чат: напишите мне напрямую и отправьте /subscribe там."
    ),
    "You have {alerts}, the most I keep. /unsubscribe one first.": (
        "У вас уже {alerts}, больше я не храню. Сначала отмените одну: /unsubscribe."
    ),
    "Subscribed to {label}. New articles will arrive here.": (
        "Подписка оформлена: {label}. Новые статьи придут сюда."
    ),
    "You already follow {label}.": "Вы уже подписаны: {label}.",
    "Unsubscribed from {label}.": "Подписка отменена: {label}.",
    "You did not follow {label}.": "Такой подписки у вас не было: {label}.",
    "Removed {alerts}.": "Отменено: {alerts}.",
    "You have no alert called “{name}”. /mysubs lists yours.": (
        "Подписки «{name}» у вас нет. Ваши подписки: /mysubs."
    ),
    # -- the operator's commands ------------------------------------------------------------------
    "<b>Status</b>": "<b>Состояние</b>",
    "The archive does not answer: {error}": "Архив не отвечает: {error}",
    "ok": "в порядке",
    "failing": "сбоит",
    "silent": "молчит",
    "paused": "на паузе",
    "new": "новый",
    "personal": "личные оповещения",  # every reader's /subscribe alerts, as one line of /status
    "last success none yet": "успешных опросов ещё не было",
    "last success {when}": "последний успех {when}",
    "never worked ({polls} so far)": "ни разу не сработал ({polls})",
    "failed once": "сбой в последнем опросе",
    "failed {n} times in a row": "сбоев подряд: {n}",
    "; next try {when}": "; следующая попытка {when}",
    "{polls} missed or skipped": "пропущено: {polls}",
    # {selector}: the config's name of it, "selectors.body", as the operator wrote it.
    "{selector} matched nothing since {when}": "{selector} ничего не находит с {when}",
    "{polls} in 24h left an item out": "за сутки {polls} без части материалов",
    "{sent} sent, {pending} pending, {unsure} uncertain, {failed} failed": (
        "отправлено {sent}, в очереди {pending}, неясных {unsure}, неудачных {failed}"
    ),
    # A colon before the count: the verb then agrees with any number (1, 21: "ждёт").
    "({held} of them held for their time)": "(из них ждут своего часа: {held})",
    "(the newest {n}: {n} at most at a time)": "(последние {n}: не больше {n} за раз)",
    "No source is called “{word}” (did you mean {key}?).": (
        "Источника «{word}» нет (может быть, {key}?)."
    ),
    "No source is called “{word}”.": "Источника «{word}» нет.",
    "{others} or {last}": "{others} или {last}",  # names offered for a mistyped one
    "Name a source: {command} KEY (one of {keys}).": (
        "Назовите источник: {command} КЛЮЧ (один из: {keys})."
    ),
    "Paused {key}: no polls until /resume {key}.": (
        "Источник {key} на паузе: опросов не будет до /resume {key}."
    ),
    "{key} is already paused: no polls until /resume {key}.": (
        "Источник {key} уже на паузе: опросов не будет до /resume {key}."
    ),
    "{key} is not paused: it is polled as usual.": (
        "Источник {key} не на паузе: он опрашивается как обычно."
    ),
    "Resumed {key}: it is polled at its next turn.": (
        "Источник {key} снова опрашивается, со следующей очереди."
    ),
    "Queued {posts} again. Uncertain ones may arrive twice.": (
        "Снова в очереди: {posts}. Неясные могут прийти дважды."
    ),
    (
        "/retry takes no argument: it queues every failed and uncertain post again. For one "
        "post: <code>presswatch outbox retry ID</code>."
    ): (
        "/retry пишется без аргументов: он снова ставит в очередь все неудавшиеся и неясные "
        "публикации. Для одной: <code>presswatch outbox retry ID</code>."
    ),
    "Nothing to retry: no failed or uncertain posts.": (
        "Повторять нечего: неудавшихся и неясных публикаций нет."
    ),
    # -- whatever else a reader may get -----------------------------------------------------------
    "Send me a command: /help lists them. To search, send /search and some words.": (
        "Пришлите команду: список — /help. Для поиска отправьте /search и слова."
    ),
    "I don't know {name}. /help lists what I can do.": "Команды {name} я не знаю. Что я умею: /help.",
    "That command is for the operator.": "Эта команда — для оператора.",
    "Slow down, please: at most {messages} in {seconds}. I will answer again after that.": (
        "Помедленнее, пожалуйста: предел — {messages} за {seconds}. Потом я снова отвечу."
    ),
    "Sorry, that went wrong on my side. Please try again later.": (
        "Извините, у меня что-то пошло не так. Попробуйте позже."
    ),
}
# English noun -> Russian forms for 1, 2 and 5, in the case each phrase needs them.
_NOUNS = {
    "article": ("статья", "статьи", "статей"),
    "alert": ("подписка", "подписки", "подписок"),
    "message": ("сообщение", "сообщения", "сообщений"),
    "poll": ("опрос", "опроса", "опросов"),
    "post": ("публикация", "публикации", "публикаций"),
    "second": ("секунду", "секунды", "секунд"),  # accusative: "за 1 секунду"
}


def language(code: str) -> str:
    """Return RU for a Russian Telegram app ("ru", "ru-RU"), else EN."""
    return RU if code.split("-")[0].strip().casefold() == RU else EN


def say(lang: str, phrase: str, **fields: object) -> str:
    """Return the English `phrase` in `lang`, its {fields} filled in."""
    russian = _RU[phrase]  # looked up in English too: an untranslated phrase fails every test
    return (russian if lang == RU else phrase).format(**fields)


def count_of(lang: str, n: int, noun: str) -> str:
    """Return "5 articles" / "5 статей": a count with its noun in the right number."""
    return ru_counted(n, *_NOUNS[noun]) if lang == RU else counted(n, noun)


def one_of(lang: str, names: Sequence[str]) -> str:
    """Return "a", "a or b", "a, b or c" (Russian: "или") for names offered as alternatives."""
    *others, last = names
    return say(lang, "{others} or {last}", others=", ".join(others), last=last) if others else last


def phrases() -> dict[str, str]:
    """Return the table, English to Russian (for tests that check it whole)."""
    return dict(_RU)
