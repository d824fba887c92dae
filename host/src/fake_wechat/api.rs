//! The fake's business APIs: customer-service and template messages,
//! typing, QR codes, media, users, tags, menus and quota queries.

use serde_json::{Value, json};

use super::state::{Delivery, FakeState, Window, fail, ok};

/// The fake's response to one call.
pub(crate) enum FakeResponse {
    Json(Value),
    Image(Vec<u8>),
    NotFound,
}

/// A JPEG start-of-image marker and JFIF header: enough for a client to see
/// an image rather than JSON.
const FAKE_JPEG: [u8; 11] = [
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
];

/// How long WeChat remembers a template `client_msg_id` per openid.
const CLIENT_MSG_ID_TTL_MS: i64 = 10 * 60 * 1000;

/// The parts of a request the business APIs read.
pub(crate) struct ApiRequest<'a> {
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub access_token: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl ApiRequest<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Handles one business API call.
pub(crate) fn handle(state: &FakeState, request: &ApiRequest<'_>) -> FakeResponse {
    if request.path == "/cgi-bin/showqrcode" {
        let known = request
            .param("ticket")
            .is_some_and(|t| state.lock().tickets.contains(t));
        return if known {
            FakeResponse::Image(FAKE_JPEG.to_vec())
        } else {
            FakeResponse::Json(fail(40097, "invalid args"))
        };
    }
    let appid = match state.check_token(request.access_token) {
        Ok(appid) => appid,
        Err(answer) => return FakeResponse::Json(answer),
    };
    let is_multipart = request
        .content_type
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let body = if request.body.is_empty() || is_multipart {
        Value::Null
    } else {
        if has_non_ascii_escape(request.body) {
            return FakeResponse::Json(fail(40033, "invalid charset. please check your request"));
        }
        match serde_json::from_slice(request.body) {
            Ok(body) => body,
            Err(_) => return FakeResponse::Json(fail(47001, "data format error")),
        }
    };
    if let Err(answer) = state.count_call(&appid, request.path) {
        return FakeResponse::Json(answer);
    }
    let answer = match request.path {
        "/cgi-bin/message/custom/send" => custom_send(state, &appid, &body),
        "/cgi-bin/message/custom/typing" => typing(state, &appid, &body),
        "/cgi-bin/message/template/send" => template_send(state, &appid, &body),
        "/cgi-bin/qrcode/create" => qrcode_create(state, &body),
        "/cgi-bin/media/upload" => media_upload(state, request),
        "/cgi-bin/user/info" => user_info(state, &appid, request.param("openid").unwrap_or("")),
        "/cgi-bin/user/info/batchget" => user_batchget(state, &appid, &body),
        "/cgi-bin/tags/create" => tags_create(state, &appid, &body),
        "/cgi-bin/tags/members/batchtagging" => tagging(state, &appid, &body, true),
        "/cgi-bin/tags/members/batchuntagging" => tagging(state, &appid, &body, false),
        "/cgi-bin/menu/create" => menu_create(state, &appid, &body),
        "/cgi-bin/menu/addconditional" => menu_add_conditional(state, &appid, &body),
        "/cgi-bin/menu/delete" => menu_delete(state, &appid),
        "/cgi-bin/menu/get" => menu_get(state, &appid),
        "/cgi-bin/openapi/quota/get" => quota_get(state, &appid, &body),
        _ => return FakeResponse::NotFound,
    };
    FakeResponse::Json(answer)
}

/// WeChat rejects `\uXXXX` escapes of non-ASCII characters with 40033.
fn has_non_ascii_escape(body: &[u8]) -> bool {
    body.windows(6).any(|w| {
        w[0] == b'\\'
            && w[1] == b'u'
            && std::str::from_utf8(&w[2..])
                .ok()
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .is_some_and(|code| code >= 0x80)
    })
}

fn str_field<'a>(body: &'a Value, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn custom_send(state: &FakeState, appid: &str, body: &Value) -> Value {
    let touser = str_field(body, "touser");
    let msgtype = str_field(body, "msgtype");
    if touser.is_empty() || msgtype.is_empty() || body.get(msgtype).is_none() {
        return fail(44002, "empty post data");
    }
    if msgtype == "news" {
        let articles = body["news"]["articles"].as_array().map_or(0, Vec::len);
        if articles > 1 {
            return fail(45008, "article size out of limit");
        }
    }
    if state.config.enforce_reply_windows
        && let Err(answer) = take_window(state, appid, touser)
    {
        return answer;
    }
    deliver(state, appid, "/cgi-bin/message/custom/send", touser, body);
    ok()
}

/// Takes one message from the follower's open window that expires first.
fn take_window(state: &FakeState, appid: &str, openid: &str) -> Result<(), Value> {
    let now = state.now_ms();
    let mut inner = state.lock();
    let user = inner
        .accounts
        .get_mut(appid)
        .and_then(|a| a.users.get_mut(openid));
    let closed = || {
        fail(
            45015,
            "response out of time limit or subscription is canceled",
        )
    };
    let Some(user) = user.filter(|u| u.subscribed) else {
        return Err(closed());
    };
    let mut open: Vec<&mut Window> = user
        .windows
        .iter_mut()
        .flatten()
        .filter(|w| w.expires_at_ms > now)
        .collect();
    if open.is_empty() {
        return Err(closed());
    }
    open.sort_by_key(|w| w.expires_at_ms);
    match open.into_iter().find(|w| w.remaining > 0) {
        Some(window) => {
            window.remaining -= 1;
            Ok(())
        }
        None => Err(fail(45047, "out of response count limit")),
    }
}

fn deliver(state: &FakeState, appid: &str, api: &str, touser: &str, body: &Value) {
    let seq = state.next_id();
    state.lock().deliveries.push(Delivery {
        seq,
        appid: appid.to_owned(),
        api: api.to_owned(),
        touser: touser.to_owned(),
        body: body.clone(),
    });
}

fn typing(state: &FakeState, appid: &str, body: &Value) -> Value {
    let command = str_field(body, "command");
    if command != "Typing" && command != "CancelTyping" {
        return fail(45072, "command invalid");
    }
    let now = state.now_ms();
    let inner = state.lock();
    let recent = inner
        .accounts
        .get(appid)
        .and_then(|a| a.users.get(str_field(body, "touser")))
        .and_then(|u| u.last_interaction_ms)
        .is_some_and(|at| now - at <= 30_000);
    if recent {
        ok()
    } else {
        fail(45080, "no user interaction in 30 seconds")
    }
}

fn template_send(state: &FakeState, appid: &str, body: &Value) -> Value {
    let touser = str_field(body, "touser");
    if touser.is_empty() || str_field(body, "template_id").is_empty() {
        return fail(40037, "invalid template_id");
    }
    let now = state.now_ms();
    let key = body
        .get("client_msg_id")
        .and_then(Value::as_str)
        .map(|id| (touser.to_owned(), id.to_owned()));
    if let Some(key) = &key {
        let inner = state.lock();
        let seen = inner
            .accounts
            .get(appid)
            .and_then(|a| a.template_keys.get(key));
        if let Some((msgid, at)) = seen
            && now - at < CLIENT_MSG_ID_TTL_MS
        {
            return json!({ "errcode": 0, "errmsg": "ok", "msgid": msgid });
        }
    }
    let msgid = 200_000_000 + state.next_id();
    if let Some(key) = key
        && let Some(account) = state.lock().accounts.get_mut(appid)
    {
        account.template_keys.insert(key, (msgid, now));
    }
    deliver(state, appid, "/cgi-bin/message/template/send", touser, body);
    json!({ "errcode": 0, "errmsg": "ok", "msgid": msgid })
}

fn qrcode_create(state: &FakeState, body: &Value) -> Value {
    let action = str_field(body, "action_name");
    let permanent = match action {
        "QR_SCENE" | "QR_STR_SCENE" => false,
        "QR_LIMIT_SCENE" | "QR_LIMIT_STR_SCENE" => true,
        _ => return fail(40097, "invalid args"),
    };
    let id = state.next_id();
    let ticket = format!("gQFAKE{id:06}+ticket/{:08x}==", rand::random::<u32>());
    state.lock().tickets.insert(ticket.clone());
    let url = format!("http://weixin.qq.com/q/fake{id:06}");
    if permanent {
        return json!({ "ticket": ticket, "url": url });
    }
    let expire = body
        .get("expire_seconds")
        .and_then(Value::as_u64)
        .unwrap_or(60);
    json!({ "ticket": ticket, "expire_seconds": expire, "url": url })
}

fn media_upload(state: &FakeState, request: &ApiRequest<'_>) -> Value {
    let media_type = request.param("type").unwrap_or_default();
    if !["image", "voice", "video", "thumb"].contains(&media_type) {
        return fail(40004, "invalid media type");
    }
    let is_multipart = request
        .content_type
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let has_media = request.body.windows(14).any(|w| w == b"name=\"media\"; ");
    if !is_multipart || !has_media {
        return fail(41005, "media data missing");
    }
    let id = state.next_id();
    json!({
        "type": media_type,
        "media_id": format!("FAKE_MEDIA_{id:06}"),
        "created_at": state.now_ms() / 1000,
    })
}

fn user_info(state: &FakeState, appid: &str, openid: &str) -> Value {
    if openid.is_empty() {
        return fail(40003, "invalid openid");
    }
    let inner = state.lock();
    let user = inner.accounts.get(appid).and_then(|a| a.users.get(openid));
    let Some(user) = user.filter(|u| u.subscribed) else {
        let mut answer = json!({ "subscribe": 0, "openid": openid });
        if let Some(unionid) = user.and_then(|u| u.unionid.clone()) {
            answer["unionid"] = json!(unionid);
        }
        return answer;
    };
    let mut answer = json!({
        "subscribe": 1,
        "openid": openid,
        "nickname": "",
        "headimgurl": "",
        "language": "zh_CN",
        "subscribe_time": user.last_interaction_ms.unwrap_or_default() / 1000,
        "remark": "",
        "groupid": 0,
        "tagid_list": user.tags,
        "subscribe_scene": "ADD_SCENE_OTHERS",
        "qr_scene": 0,
        "qr_scene_str": "",
    });
    if let Some(unionid) = &user.unionid {
        answer["unionid"] = json!(unionid);
    }
    answer
}

fn user_batchget(state: &FakeState, appid: &str, body: &Value) -> Value {
    let list = body["user_list"].as_array().cloned().unwrap_or_default();
    if list.is_empty() || list.len() > 100 {
        return fail(40032, "invalid openid list size");
    }
    let infos: Vec<Value> = list
        .iter()
        .map(|u| user_info(state, appid, str_field(u, "openid")))
        .collect();
    json!({ "user_info_list": infos })
}

fn tags_create(state: &FakeState, appid: &str, body: &Value) -> Value {
    let name = body["tag"]["name"].as_str().unwrap_or_default().to_owned();
    if name.is_empty() || name.len() > 30 {
        return fail(45158, "tag name too long");
    }
    let now = state.now_ms();
    let id = 100 + state.next_id();
    let mut inner = state.lock();
    let Some(account) = inner.accounts.get_mut(appid) else {
        return fail(40013, "invalid appid");
    };
    if account.tags.values().any(|(n, _)| *n == name) {
        return fail(45157, "invalid tag name");
    }
    account.tags.insert(id, (name.clone(), now));
    json!({ "tag": { "id": id, "name": name } })
}

fn tagging(state: &FakeState, appid: &str, body: &Value, add: bool) -> Value {
    let openids: Vec<String> = body["openid_list"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if openids.is_empty() || openids.len() > 50 {
        return fail(40032, "invalid openid list size");
    }
    let tag_id = body["tagid"].as_u64().unwrap_or_default();
    let now = state.now_ms();
    let visible_after = i64::try_from(state.config.tag_visible_after.as_millis()).unwrap_or(0);
    let mut inner = state.lock();
    let Some(account) = inner.accounts.get_mut(appid) else {
        return fail(40013, "invalid appid");
    };
    let visible = account
        .tags
        .get(&tag_id)
        .is_some_and(|(_, created)| now - created >= visible_after);
    if !visible {
        return fail(45159, "invalid tag id");
    }
    for openid in openids {
        let user = account.users.entry(openid).or_default();
        user.tags.retain(|t| *t != tag_id);
        if add {
            user.tags.push(tag_id);
        }
    }
    ok()
}

fn menu_create(state: &FakeState, appid: &str, body: &Value) -> Value {
    let buttons = body["button"].as_array().map_or(0, Vec::len);
    if !(1..=3).contains(&buttons) {
        return fail(40016, "invalid button size");
    }
    let id = 400_000_000 + state.next_id();
    if let Some(account) = state.lock().accounts.get_mut(appid) {
        account.menu = Some(json!({ "button": body["button"], "menuid": id }));
    }
    ok()
}

fn menu_add_conditional(state: &FakeState, appid: &str, body: &Value) -> Value {
    let rule = body["matchrule"].as_object().cloned().unwrap_or_default();
    if rule.values().all(|v| v.as_str().is_none_or(str::is_empty)) {
        return fail(65304, "match rule empty");
    }
    let id = 208_000_000 + state.next_id();
    let mut inner = state.lock();
    let Some(account) = inner.accounts.get_mut(appid) else {
        return fail(40013, "invalid appid");
    };
    if account.menu.is_none() {
        return fail(65303, "there is no selfmenu, please create selfmenu first");
    }
    account.conditional_menus.push(json!({
        "button": body["button"],
        "matchrule": rule,
        "menuid": id,
    }));
    json!({ "menuid": id.to_string() })
}

fn menu_delete(state: &FakeState, appid: &str) -> Value {
    if let Some(account) = state.lock().accounts.get_mut(appid) {
        account.menu = None;
        account.conditional_menus.clear();
    }
    ok()
}

fn menu_get(state: &FakeState, appid: &str) -> Value {
    let inner = state.lock();
    let Some(account) = inner.accounts.get(appid) else {
        return fail(40013, "invalid appid");
    };
    match &account.menu {
        None => fail(46003, "menu no exist"),
        Some(menu) => json!({ "menu": menu, "conditionalmenu": account.conditional_menus }),
    }
}

fn quota_get(state: &FakeState, appid: &str, body: &Value) -> Value {
    let path = str_field(body, "cgi_path");
    if !path.starts_with('/') {
        return fail(76003, "invalid cgi_path");
    }
    let day = super::state::cst_day(state.now_ms());
    let inner = state.lock();
    let used = inner
        .accounts
        .get(appid)
        .and_then(|a| a.daily_counts.get(&(path.to_owned(), day)))
        .copied()
        .unwrap_or(0);
    let limit = inner.daily_limits.get(path).copied().unwrap_or(0);
    json!({
        "errcode": 0,
        "errmsg": "ok",
        "quota": { "daily_limit": limit, "used": used, "remain": limit.saturating_sub(used) },
    })
}
