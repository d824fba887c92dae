//! Typed calls of [`WeChatClient`], one method per WeChat API.

use reqwest::Method;
use serde_json::json;

use super::client::WeChatClient;
use super::error::ApiError;
use super::http::{Call, Host, Payload, ResponseBody, decode};
use super::menu::{ConditionalMenuRequest, MatchRule, Menu, MenuIdResponse, MenuInfo};
use super::message::{CustomMessage, TemplateMessage, TemplateSent, TypingCommand};
use super::qrcode::{QrCodeRequest, QrTicket};
use super::user::{
    ApiQuota, ApiQuotaResponse, MAX_BATCHGET, MAX_TAGGING, MediaType, Tag, TagResponse,
    UploadedMedia, UserInfo, UserInfoList,
};

const CUSTOM_SEND: &str = "/cgi-bin/message/custom/send";
const CUSTOM_TYPING: &str = "/cgi-bin/message/custom/typing";
const TEMPLATE_SEND: &str = "/cgi-bin/message/template/send";
const QRCODE_CREATE: &str = "/cgi-bin/qrcode/create";
const SHOW_QRCODE: &str = "/cgi-bin/showqrcode";
const MEDIA_UPLOAD: &str = "/cgi-bin/media/upload";
const USER_INFO: &str = "/cgi-bin/user/info";
const USER_BATCHGET: &str = "/cgi-bin/user/info/batchget";
const TAGS_CREATE: &str = "/cgi-bin/tags/create";
const BATCH_TAGGING: &str = "/cgi-bin/tags/members/batchtagging";
const BATCH_UNTAGGING: &str = "/cgi-bin/tags/members/batchuntagging";
const MENU_CREATE: &str = "/cgi-bin/menu/create";
const MENU_ADD_CONDITIONAL: &str = "/cgi-bin/menu/addconditional";
const MENU_DELETE: &str = "/cgi-bin/menu/delete";
const MENU_GET: &str = "/cgi-bin/menu/get";
const QUOTA_GET: &str = "/cgi-bin/openapi/quota/get";

impl WeChatClient {
    /// Sends a customer-service message. The follower's window is checked
    /// and used locally first; a closed or used-up window is rejected
    /// without a request.
    pub async fn send_custom(&self, message: &CustomMessage) -> Result<(), ApiError> {
        message.validate().map_err(|r| invalid(CUSTOM_SEND, r))?;
        let call = Call::new(Method::POST, CUSTOM_SEND).json(message)?;
        self.execute(&call, Some(&message.touser)).await?;
        Ok(())
    }

    /// Sends a customer-service message whose window message was already
    /// taken with [`QuotaGuard::reserve_reply`](super::QuotaGuard::reserve_reply),
    /// as the outbox does when it accepts the message. Sending it again
    /// after a failure takes no further window message locally.
    pub async fn send_custom_reserved(&self, message: &CustomMessage) -> Result<(), ApiError> {
        message.validate().map_err(|r| invalid(CUSTOM_SEND, r))?;
        let call = Call::new(Method::POST, CUSTOM_SEND).json(message)?;
        self.execute_reserved(&call, &message.touser).await?;
        Ok(())
    }

    /// Shows or cancels the typing indicator. WeChat accepts it only within
    /// 30 s of an interaction (45080 otherwise).
    pub async fn send_typing(&self, touser: &str, command: TypingCommand) -> Result<(), ApiError> {
        let call = Call::new(Method::POST, CUSTOM_TYPING)
            .json(&json!({ "touser": touser, "command": command }))?;
        self.execute(&call, None).await?;
        Ok(())
    }

    /// Sends a template message and returns its msgid.
    pub async fn send_template(&self, message: &TemplateMessage) -> Result<TemplateSent, ApiError> {
        let call = Call::new(Method::POST, TEMPLATE_SEND).json(message)?;
        self.json(&call).await
    }

    /// Creates a QR code ticket after checking the scene and lifetime.
    pub async fn create_qrcode(&self, request: &QrCodeRequest) -> Result<QrTicket, ApiError> {
        request.validate().map_err(|r| invalid(QRCODE_CREATE, r))?;
        let call = Call::new(Method::POST, QRCODE_CREATE).json(request)?;
        self.json(&call).await
    }

    /// Downloads the QR code image of `ticket`. A JSON body is an error.
    pub async fn show_qrcode(&self, ticket: &str) -> Result<Vec<u8>, ApiError> {
        let mut call = Call::new(Method::GET, SHOW_QRCODE).query("ticket", ticket);
        call.host = Host::Mp;
        call.binary = true;
        match self.execute_without_token(&call).await? {
            ResponseBody::Binary(bytes) => Ok(bytes),
            ResponseBody::Json(_) => Err(ApiError::Decode {
                api: SHOW_QRCODE.to_owned(),
                reason: "expected an image".to_owned(),
            }),
        }
    }

    /// Uploads temporary media (kept 3 days) in the multipart field `media`.
    pub async fn upload_media(
        &self,
        media_type: MediaType,
        filename: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<UploadedMedia, ApiError> {
        let mut call = Call::new(Method::POST, MEDIA_UPLOAD).query("type", media_type.as_str());
        call.payload = Payload::Media {
            filename: filename.to_owned(),
            content_type: content_type.to_owned(),
            bytes,
        };
        self.json(&call).await
    }

    /// Returns a user's profile. `lang` defaults to `zh_CN`.
    pub async fn user_info(&self, openid: &str, lang: Option<&str>) -> Result<UserInfo, ApiError> {
        let call = Call::new(Method::GET, USER_INFO)
            .query("openid", openid)
            .query("lang", lang.unwrap_or("zh_CN"));
        self.json(&call).await
    }

    /// Returns the profiles of 1 to 100 users.
    pub async fn user_info_batch(
        &self,
        openids: &[String],
        lang: Option<&str>,
    ) -> Result<Vec<UserInfo>, ApiError> {
        check_count(USER_BATCHGET, openids.len(), MAX_BATCHGET)?;
        let lang = lang.unwrap_or("zh_CN");
        let users: Vec<_> = openids
            .iter()
            .map(|openid| json!({ "openid": openid, "lang": lang }))
            .collect();
        let call = Call::new(Method::POST, USER_BATCHGET).json(&json!({ "user_list": users }))?;
        let list: UserInfoList = self.json(&call).await?;
        Ok(list.user_info_list)
    }

    /// Creates a tag.
    pub async fn create_tag(&self, name: &str) -> Result<Tag, ApiError> {
        let call =
            Call::new(Method::POST, TAGS_CREATE).json(&json!({ "tag": { "name": name } }))?;
        let answer: TagResponse = self.json(&call).await?;
        Ok(answer.tag)
    }

    /// Adds the tag to 1 to 50 users.
    pub async fn batch_tag(&self, tag_id: u64, openids: &[String]) -> Result<(), ApiError> {
        self.tagging(BATCH_TAGGING, tag_id, openids).await
    }

    /// Removes the tag from 1 to 50 users.
    pub async fn batch_untag(&self, tag_id: u64, openids: &[String]) -> Result<(), ApiError> {
        self.tagging(BATCH_UNTAGGING, tag_id, openids).await
    }

    async fn tagging(
        &self,
        api: &'static str,
        tag_id: u64,
        openids: &[String],
    ) -> Result<(), ApiError> {
        check_count(api, openids.len(), MAX_TAGGING)?;
        let call = Call::new(Method::POST, api)
            .json(&json!({ "openid_list": openids, "tagid": tag_id }))?;
        self.execute(&call, None).await?;
        Ok(())
    }

    /// Replaces the default menu.
    pub async fn create_menu(&self, menu: &Menu) -> Result<(), ApiError> {
        menu.validate().map_err(|r| invalid(MENU_CREATE, r))?;
        let call = Call::new(Method::POST, MENU_CREATE).json(menu)?;
        self.execute(&call, None).await?;
        Ok(())
    }

    /// Adds a conditional menu and returns its menuid.
    pub async fn add_conditional_menu(
        &self,
        menu: &Menu,
        rule: &MatchRule,
    ) -> Result<String, ApiError> {
        menu.validate()
            .map_err(|r| invalid(MENU_ADD_CONDITIONAL, r))?;
        if rule.tag_id.is_none() && rule.client_platform_type.is_none() {
            return Err(invalid(
                MENU_ADD_CONDITIONAL,
                "matchrule sets no field".to_owned(),
            ));
        }
        let body = ConditionalMenuRequest {
            button: &menu.button,
            matchrule: rule,
        };
        let call = Call::new(Method::POST, MENU_ADD_CONDITIONAL).json(&body)?;
        let answer: MenuIdResponse = self.json(&call).await?;
        Ok(match answer.menuid {
            serde_json::Value::String(id) => id,
            other => other.to_string(),
        })
    }

    /// Deletes the default menu and every conditional menu.
    pub async fn delete_menu(&self) -> Result<(), ApiError> {
        self.execute(&Call::new(Method::GET, MENU_DELETE), None)
            .await?;
        Ok(())
    }

    /// Returns the menus created through the API.
    pub async fn get_menu(&self) -> Result<MenuInfo, ApiError> {
        self.json(&Call::new(Method::GET, MENU_GET)).await
    }

    /// Returns WeChat's own count of today's calls of `cgi_path`, for
    /// example `/cgi-bin/message/custom/send`.
    pub async fn api_quota(&self, cgi_path: &str) -> Result<ApiQuota, ApiError> {
        if !cgi_path.starts_with('/') {
            return Err(invalid(
                QUOTA_GET,
                format!("cgi_path must start with '/', got {cgi_path:?}"),
            ));
        }
        let call = Call::new(Method::POST, QUOTA_GET).json(&json!({ "cgi_path": cgi_path }))?;
        let answer: ApiQuotaResponse = self.json(&call).await?;
        Ok(answer.quota)
    }

    async fn json<T: serde::de::DeserializeOwned>(&self, call: &Call) -> Result<T, ApiError> {
        let value = self.execute(call, None).await?.into_json(call.path)?;
        decode(call.path, value)
    }
}

fn invalid(api: &str, reason: String) -> ApiError {
    ApiError::InvalidRequest {
        api: api.to_owned(),
        reason,
    }
}

fn check_count(api: &str, count: usize, max: usize) -> Result<(), ApiError> {
    if count == 0 || count > max {
        return Err(invalid(
            api,
            format!("takes 1 to {max} openids, got {count}"),
        ));
    }
    Ok(())
}
