//! Mapping the elements of an event callback onto [`Event`].

use super::inbound::{ExtraField, Fields, parse_f64, parse_i64, parse_u32, parse_u64};
use super::message::{
    Event, LocationSelect, MassSendJobFinish, ScanCode, SendPics, SubscribeMsgItem,
    SubscribeMsgSentItem,
};

/// Prefix of `EventKey` when a non-follower subscribes through a QR code.
const QR_SCENE_PREFIX: &str = "qrscene_";

/// Builds the typed event for `name` (matched without regard to ASCII case).
/// A string that the model requires but the body lacks is empty.
pub(crate) fn parse_event(
    name: &str,
    event_key: Option<&str>,
    fields: &mut Fields<'_>,
    extra: &mut Vec<ExtraField>,
) -> Event {
    let key = || event_key.unwrap_or_default().to_owned();
    match name.to_ascii_lowercase().as_str() {
        "subscribe" => Event::Subscribe {
            scene: event_key
                .and_then(|key| key.strip_prefix(QR_SCENE_PREFIX))
                .filter(|scene| !scene.is_empty())
                .map(str::to_owned),
            ticket: fields.text("Ticket"),
            event_key: event_key.map(str::to_owned),
        },
        "unsubscribe" => Event::Unsubscribe,
        "scan" => Event::Scan {
            scene: key(),
            ticket: fields.text("Ticket"),
        },
        "location" => Event::Location {
            latitude: fields.number("Latitude", parse_f64),
            longitude: fields.number("Longitude", parse_f64),
            precision: fields.number("Precision", parse_f64),
        },
        "click" => Event::Click { key: key() },
        "view" => Event::View {
            url: key(),
            menu_id: fields.number("MenuId", parse_u64),
        },
        "view_miniprogram" => Event::ViewMiniprogram {
            page_path: key(),
            menu_id: fields.number("MenuId", parse_u64),
        },
        "scancode_push" => Event::ScancodePush(scan_code(key(), fields, extra)),
        "scancode_waitmsg" => Event::ScancodeWaitmsg(scan_code(key(), fields, extra)),
        "pic_sysphoto" => Event::PicSysphoto(send_pics(key(), fields, extra)),
        "pic_photo_or_album" => Event::PicPhotoOrAlbum(send_pics(key(), fields, extra)),
        "pic_weixin" => Event::PicWeixin(send_pics(key(), fields, extra)),
        "location_select" => Event::LocationSelect(location_select(key(), fields, extra)),
        "templatesendjobfinish" => Event::TemplateSendJobFinish {
            msg_id: fields.number("MsgID", parse_u64),
            status: fields.text("Status").unwrap_or_default(),
        },
        "masssendjobfinish" => Event::MassSendJobFinish(mass_send(fields)),
        "subscribe_msg_popup_event" => {
            Event::SubscribeMsgPopup(subscribe_items(&["SubscribeMsgPopupEvent"], fields, extra))
        }
        // Some samples wrap the change event in the popup element.
        "subscribe_msg_change_event" => Event::SubscribeMsgChange(subscribe_items(
            &["SubscribeMsgChangeEvent", "SubscribeMsgPopupEvent"],
            fields,
            extra,
        )),
        "subscribe_msg_sent_event" => Event::SubscribeMsgSent(sent_items(fields, extra)),
        "kf_create_session" => Event::KfCreateSession {
            kf_account: fields.text("KfAccount").unwrap_or_default(),
        },
        "kf_close_session" => Event::KfCloseSession {
            kf_account: fields.text("KfAccount").unwrap_or_default(),
        },
        "kf_switch_session" => Event::KfSwitchSession {
            from_kf_account: fields.text("FromKfAccount").unwrap_or_default(),
            to_kf_account: fields.text("ToKfAccount").unwrap_or_default(),
        },
        "qualification_verify_success"
        | "qualification_verify_fail"
        | "naming_verify_success"
        | "naming_verify_fail"
        | "annual_renew"
        | "verify_expired" => Event::Verification {
            name: name.to_owned(),
            time: fields
                .number("ExpiredTime", parse_u64)
                .or_else(|| fields.number("FailTime", parse_u64)),
            fail_reason: fields.text("FailReason"),
        },
        _ => Event::Unknown {
            name: name.to_owned(),
            event_key: event_key.map(str::to_owned),
        },
    }
}

fn scan_code(key: String, fields: &mut Fields<'_>, extra: &mut Vec<ExtraField>) -> ScanCode {
    let mut scan_type = None;
    let mut scan_result = None;
    if let Some(mut info) = fields.nested("ScanCodeInfo") {
        scan_type = info.text("ScanType");
        scan_result = info.text("ScanResult");
        info.finish(extra);
    }
    ScanCode {
        key,
        scan_type,
        scan_result,
    }
}

/// Reads `SendPicsInfo`. `PicList/item` may appear once, many times or not
/// at all; a missing `Count` is the number of items.
fn send_pics(key: String, fields: &mut Fields<'_>, extra: &mut Vec<ExtraField>) -> SendPics {
    let mut count = None;
    let mut pic_md5_sums = Vec::new();
    if let Some(mut info) = fields.nested("SendPicsInfo") {
        count = info.number("Count", parse_u32);
        if let Some(mut list) = info.nested("PicList") {
            while let Some(mut item) = list.nested("item") {
                pic_md5_sums.extend(item.text("PicMd5Sum"));
                item.finish(extra);
            }
            list.finish(extra);
        }
        info.finish(extra);
    }
    let count = count.unwrap_or_else(|| u32::try_from(pic_md5_sums.len()).unwrap_or(u32::MAX));
    SendPics {
        key,
        count,
        pic_md5_sums,
    }
}

fn location_select(
    key: String,
    fields: &mut Fields<'_>,
    extra: &mut Vec<ExtraField>,
) -> LocationSelect {
    let mut location = LocationSelect {
        key,
        location_x: None,
        location_y: None,
        scale: None,
        label: None,
        poiname: None,
    };
    if let Some(mut info) = fields.nested("SendLocationInfo") {
        location.location_x = info.number("Location_X", parse_f64);
        location.location_y = info.number("Location_Y", parse_f64);
        location.scale = info.number("Scale", parse_f64);
        location.label = info.text("Label");
        location.poiname = info.text("Poiname");
        info.finish(extra);
    }
    location
}

/// Reads the counters of a mass-send result. `CopyrightCheckResult` and
/// `ArticleUrlResult` stay unused and reach `extra` as XML text.
fn mass_send(fields: &mut Fields<'_>) -> MassSendJobFinish {
    MassSendJobFinish {
        msg_id: fields.number("MsgID", parse_u64),
        status: fields.text("Status").unwrap_or_default(),
        total_count: fields.number("TotalCount", parse_u64),
        filter_count: fields.number("FilterCount", parse_u64),
        sent_count: fields.number("SentCount", parse_u64),
        error_count: fields.number("ErrorCount", parse_u64),
    }
}

/// Reads the `List` entries of the first wrapper in `wrappers` present.
fn subscribe_items(
    wrappers: &[&str],
    fields: &mut Fields<'_>,
    extra: &mut Vec<ExtraField>,
) -> Vec<SubscribeMsgItem> {
    let Some(mut wrapper) = wrappers.iter().find_map(|name| fields.nested(name)) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    while let Some(mut entry) = wrapper.nested("List") {
        items.push(SubscribeMsgItem {
            template_id: entry.text("TemplateId").unwrap_or_default(),
            status: entry.text("SubscribeStatusString").unwrap_or_default(),
            popup_scene: entry.number("PopupScene", parse_u32),
        });
        entry.finish(extra);
    }
    wrapper.finish(extra);
    items
}

fn sent_items(fields: &mut Fields<'_>, extra: &mut Vec<ExtraField>) -> Vec<SubscribeMsgSentItem> {
    let Some(mut wrapper) = fields.nested("SubscribeMsgSentEvent") else {
        return Vec::new();
    };
    let mut items = Vec::new();
    while let Some(mut entry) = wrapper.nested("List") {
        items.push(SubscribeMsgSentItem {
            template_id: entry.text("TemplateId").unwrap_or_default(),
            msg_id: entry.number("MsgID", parse_u64),
            error_code: entry.number("ErrorCode", parse_i64),
            error_status: entry.text("ErrorStatus"),
        });
        entry.finish(extra);
    }
    wrapper.finish(extra);
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::inbound::parse_inbound;
    use crate::protocol::message::{Field, Inbound, Payload};

    const HEADER: &str = "<ToUserName><![CDATA[gh_fakeacct001]]></ToUserName><FromUserName><![CDATA[oFAKE_user_0001]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>";

    fn parse(body: &str) -> Inbound {
        parse_inbound(body.as_bytes()).unwrap()
    }

    fn event(body: &str) -> Event {
        match parse(body).payload {
            Payload::Event(event) => event,
            other => panic!("not an event: {other:?}"),
        }
    }

    fn event_body(elements: &str) -> String {
        format!("<xml>{HEADER}{elements}</xml>")
    }

    fn field(name: &str, value: &str) -> Field {
        Field {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }

    fn owned(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn official_subscribe_samples() {
        let plain = parse(include_str!("testdata/subscribe.xml"));
        assert_eq!(plain.event.as_deref(), Some("subscribe"));
        assert_eq!(plain.msg_id, None);
        assert_eq!(
            plain.payload,
            Payload::Event(Event::Subscribe {
                scene: None,
                ticket: None,
                event_key: None,
            })
        );

        let qr = parse(include_str!("testdata/subscribe_qrscene.xml"));
        assert_eq!(qr.event_key.as_deref(), Some("qrscene_123123"));
        assert_eq!(
            qr.payload,
            Payload::Event(Event::Subscribe {
                scene: owned("123123"),
                ticket: owned("TICKET"),
                event_key: owned("qrscene_123123"),
            })
        );
    }

    #[test]
    fn official_unsubscribe_sample() {
        assert_eq!(
            event(include_str!("testdata/unsubscribe.xml")),
            Event::Unsubscribe
        );
    }

    #[test]
    fn official_scan_sample() {
        let inbound = parse(include_str!("testdata/scan.xml"));
        assert_eq!(inbound.event.as_deref(), Some("SCAN"));
        assert_eq!(
            inbound.payload,
            Payload::Event(Event::Scan {
                scene: "SCENE_VALUE".to_owned(),
                ticket: owned("TICKET"),
            })
        );
    }

    #[test]
    fn official_location_sample() {
        assert_eq!(
            event(include_str!("testdata/location_event.xml")),
            Event::Location {
                latitude: Some(23.137466),
                longitude: Some(113.352425),
                precision: Some(119.385040),
            }
        );
    }

    #[test]
    fn official_menu_samples() {
        assert_eq!(
            event(include_str!("testdata/click.xml")),
            Event::Click {
                key: "EVENTKEY".to_owned()
            }
        );

        // The sample's `MenuId` is the placeholder text `MENUID`.
        let view = parse(include_str!("testdata/view.xml"));
        assert_eq!(
            view.payload,
            Payload::Event(Event::View {
                url: "www.qq.com".to_owned(),
                menu_id: None,
            })
        );
        assert_eq!(view.extra, [field("MenuId", "MENUID")]);

        let mini = parse(include_str!("testdata/view_miniprogram.xml"));
        assert_eq!(
            mini.payload,
            Payload::Event(Event::ViewMiniprogram {
                page_path: "pages/index/index".to_owned(),
                menu_id: None,
            })
        );
    }

    #[test]
    fn official_scancode_samples() {
        assert_eq!(
            event(include_str!("testdata/scancode_push.xml")),
            Event::ScancodePush(ScanCode {
                key: "6".to_owned(),
                scan_type: owned("qrcode"),
                scan_result: owned("1"),
            })
        );
        assert_eq!(
            event(include_str!("testdata/scancode_waitmsg.xml")),
            Event::ScancodeWaitmsg(ScanCode {
                key: "6".to_owned(),
                scan_type: owned("qrcode"),
                scan_result: owned("2"),
            })
        );
    }

    #[test]
    fn official_pic_samples() {
        let pics = |md5: &str| SendPics {
            key: "6".to_owned(),
            count: 1,
            pic_md5_sums: vec![md5.to_owned()],
        };
        assert_eq!(
            event(include_str!("testdata/pic_sysphoto.xml")),
            Event::PicSysphoto(pics("1b5f7c23b5bf75682a53e7b6d163e185"))
        );
        assert_eq!(
            event(include_str!("testdata/pic_photo_or_album.xml")),
            Event::PicPhotoOrAlbum(pics("5a75aaca956d97be686719218f275c6b"))
        );
        let weixin = parse(include_str!("testdata/pic_weixin.xml"));
        assert_eq!(
            weixin.payload,
            Payload::Event(Event::PicWeixin(pics("5a75aaca956d97be686719218f275c6b")))
        );
        assert_eq!(weixin.extra, []);
    }

    #[test]
    fn official_location_select_sample() {
        assert_eq!(
            event(include_str!("testdata/location_select.xml")),
            Event::LocationSelect(LocationSelect {
                key: "6".to_owned(),
                location_x: Some(23.0),
                location_y: Some(113.0),
                scale: Some(15.0),
                label: owned("广州市海珠区客村艺苑路 106号"),
                poiname: None,
            })
        );
    }

    #[test]
    fn official_template_samples() {
        let cases = [
            (
                include_str!("testdata/template_success.xml"),
                200163836,
                "success",
            ),
            (
                include_str!("testdata/template_user_block.xml"),
                200163840,
                "failed:user block",
            ),
            (
                include_str!("testdata/template_system_failed.xml"),
                200163840,
                "failed: system failed",
            ),
        ];
        for (body, msg_id, status) in cases {
            let inbound = parse(body);
            assert_eq!(
                inbound.payload,
                Payload::Event(Event::TemplateSendJobFinish {
                    msg_id: Some(msg_id),
                    status: status.to_owned(),
                })
            );
            assert_eq!(inbound.extra, []);
        }
    }

    #[test]
    fn official_mass_send_sample() {
        let inbound = parse(include_str!("testdata/mass_send_job_finish.xml"));
        assert_eq!(
            inbound.payload,
            Payload::Event(Event::MassSendJobFinish(MassSendJobFinish {
                msg_id: Some(1000001625),
                status: "err(30003)".to_owned(),
                total_count: Some(0),
                filter_count: Some(0),
                sent_count: Some(0),
                error_count: Some(0),
            }))
        );
        let names: Vec<&str> = inbound.extra.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["CopyrightCheckResult", "ArticleUrlResult"]);
        assert!(
            inbound.extra[0]
                .value
                .starts_with("<Count>2</Count>\n    <ResultList>")
        );
        assert!(
            inbound.extra[0]
                .value
                .ends_with("<CheckState>2</CheckState>")
        );
        assert_eq!(
            inbound.extra[1].value,
            "<Count>1</Count>\n    <ResultList><item><ArticleIdx>1</ArticleIdx><ArticleUrl><![CDATA[Url]]></ArticleUrl></item></ResultList>"
        );
    }

    #[test]
    fn official_subscribe_msg_popup_sample() {
        let item = |template_id: &str, status: &str| SubscribeMsgItem {
            template_id: template_id.to_owned(),
            status: status.to_owned(),
            popup_scene: Some(2),
        };
        assert_eq!(
            event(include_str!("testdata/subscribe_msg_popup.xml")),
            Event::SubscribeMsgPopup(vec![
                item("VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc", "accept"),
                item("9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI", "reject"),
            ])
        );
    }

    #[test]
    fn subscribe_msg_change_either_wrapper() {
        let expected = Event::SubscribeMsgChange(vec![SubscribeMsgItem {
            template_id: "T1".to_owned(),
            status: "reject".to_owned(),
            popup_scene: None,
        }]);
        for wrapper in ["SubscribeMsgChangeEvent", "SubscribeMsgPopupEvent"] {
            let body = event_body(&format!(
                "<Event>subscribe_msg_change_event</Event><{wrapper}><List><TemplateId>T1</TemplateId><SubscribeStatusString>reject</SubscribeStatusString></List></{wrapper}>"
            ));
            assert_eq!(event(&body), expected, "{wrapper}");
        }
    }

    #[test]
    fn subscribe_msg_sent_single_list() {
        let body = event_body(
            "<Event>subscribe_msg_sent_event</Event><SubscribeMsgSentEvent><List><TemplateId>T1</TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent>",
        );
        assert_eq!(
            event(&body),
            Event::SubscribeMsgSent(vec![SubscribeMsgSentItem {
                template_id: "T1".to_owned(),
                msg_id: Some(1700827132819554304),
                error_code: Some(0),
                error_status: owned("success"),
            }])
        );
    }

    #[test]
    fn official_kf_samples() {
        assert_eq!(
            event(include_str!("testdata/kf_create_session.xml")),
            Event::KfCreateSession {
                kf_account: "test1@test".to_owned()
            }
        );
        assert_eq!(
            event(include_str!("testdata/kf_close_session.xml")),
            Event::KfCloseSession {
                kf_account: "test1@test".to_owned()
            }
        );
        assert_eq!(
            event(include_str!("testdata/kf_switch_session.xml")),
            Event::KfSwitchSession {
                from_kf_account: "test1@test".to_owned(),
                to_kf_account: "test2@test".to_owned(),
            }
        );
    }

    #[test]
    fn verification_events() {
        let body = event_body("<Event>annual_renew</Event><ExpiredTime>1442401156</ExpiredTime>");
        assert_eq!(
            event(&body),
            Event::Verification {
                name: "annual_renew".to_owned(),
                time: Some(1442401156),
                fail_reason: None,
            }
        );
        let body = event_body(
            "<Event>naming_verify_fail</Event><FailTime>1442401122</FailTime><FailReason><![CDATA[by time]]></FailReason>",
        );
        assert_eq!(
            event(&body),
            Event::Verification {
                name: "naming_verify_fail".to_owned(),
                time: Some(1442401122),
                fail_reason: owned("by time"),
            }
        );
    }

    #[test]
    fn subscribe_empty_or_absent_key_same() {
        let empty = parse(&event_body(
            "<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]></EventKey>",
        ));
        let absent = parse(&event_body("<Event><![CDATA[subscribe]]></Event>"));
        assert_eq!(empty.event_key, None);
        assert_eq!(empty.payload, absent.payload);
        assert_eq!(
            empty.payload,
            Payload::Event(Event::Subscribe {
                scene: None,
                ticket: None,
                event_key: None,
            })
        );
    }

    #[test]
    fn empty_location_numbers_are_none() {
        let body = event_body(
            "<Event><![CDATA[LOCATION]]></Event><Latitude>23.137466</Latitude><Longitude></Longitude><Precision> </Precision>",
        );
        let inbound = parse(&body);
        assert_eq!(
            inbound.payload,
            Payload::Event(Event::Location {
                latitude: Some(23.137466),
                longitude: None,
                precision: None,
            })
        );
        assert_eq!(inbound.extra, []);
    }

    #[test]
    fn pics_without_pictures() {
        for pic_list in ["<PicList></PicList>", "<PicList/>"] {
            let body = event_body(&format!(
                "<Event><![CDATA[pic_weixin]]></Event><EventKey><![CDATA[upload_receipt]]></EventKey><SendPicsInfo><Count>0</Count>{pic_list}</SendPicsInfo>"
            ));
            let inbound = parse(&body);
            assert_eq!(
                inbound.payload,
                Payload::Event(Event::PicWeixin(SendPics {
                    key: "upload_receipt".to_owned(),
                    count: 0,
                    pic_md5_sums: vec![],
                })),
                "{pic_list}"
            );
            assert_eq!(inbound.extra, []);
        }
    }

    #[test]
    fn pics_many_items() {
        let body = event_body(
            "<Event>pic_sysphoto</Event><EventKey>k</EventKey><SendPicsInfo><PicList><item><PicMd5Sum>a</PicMd5Sum></item><item><PicMd5Sum>b</PicMd5Sum><Extra>x</Extra></item></PicList><Count>two</Count></SendPicsInfo>",
        );
        let inbound = parse(&body);
        assert_eq!(
            inbound.payload,
            Payload::Event(Event::PicSysphoto(SendPics {
                key: "k".to_owned(),
                count: 2,
                pic_md5_sums: vec!["a".to_owned(), "b".to_owned()],
            }))
        );
        assert_eq!(
            inbound.extra,
            [
                field("SendPicsInfo/PicList/item/Extra", "x"),
                field("SendPicsInfo/Count", "two"),
            ]
        );
    }

    #[test]
    fn scancode_result_keeps_ampersand() {
        let body = event_body(
            "<Event><![CDATA[scancode_waitmsg]]></Event><EventKey><![CDATA[scan_k]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[https://example.invalid/p?a=1&b=2]]></ScanResult></ScanCodeInfo>",
        );
        assert_eq!(
            event(&body),
            Event::ScancodeWaitmsg(ScanCode {
                key: "scan_k".to_owned(),
                scan_type: owned("qrcode"),
                scan_result: owned("https://example.invalid/p?a=1&b=2"),
            })
        );
    }

    #[test]
    fn location_select_numbers_in_cdata() {
        let body = event_body(
            "<Event><![CDATA[location_select]]></Event><EventKey><![CDATA[loc_k]]></EventKey><SendLocationInfo><Location_X><![CDATA[23.1]]></Location_X><Location_Y><![CDATA[113.3]]></Location_Y><Scale><![CDATA[15]]></Scale><Label><![CDATA[]]></Label><Poiname><![CDATA[]]></Poiname></SendLocationInfo>",
        );
        assert_eq!(
            event(&body),
            Event::LocationSelect(LocationSelect {
                key: "loc_k".to_owned(),
                location_x: Some(23.1),
                location_y: Some(113.3),
                scale: Some(15.0),
                label: None,
                poiname: None,
            })
        );
    }

    #[test]
    fn view_miniprogram_with_future_field() {
        let body = event_body(
            "<Event><![CDATA[view_miniprogram]]></Event><EventKey><![CDATA[pages/index/index]]></EventKey><MenuId>411000001</MenuId><FutureField><![CDATA[z]]></FutureField>",
        );
        let inbound = parse(&body);
        assert_eq!(inbound.event.as_deref(), Some("view_miniprogram"));
        assert_eq!(
            inbound.payload,
            Payload::Event(Event::ViewMiniprogram {
                page_path: "pages/index/index".to_owned(),
                menu_id: Some(411000001),
            })
        );
        assert_eq!(inbound.extra, [field("FutureField", "z")]);
    }

    #[test]
    fn unknown_event_keeps_fields() {
        let body = event_body(
            "<Event><![CDATA[device_event]]></Event><EventKey>k1</EventKey><DeviceID>dev01</DeviceID><Info><A>1</A></Info>",
        );
        let inbound = parse(&body);
        assert_eq!(
            inbound.payload,
            Payload::Event(Event::Unknown {
                name: "device_event".to_owned(),
                event_key: owned("k1"),
            })
        );
        assert_eq!(
            inbound.extra,
            [field("DeviceID", "dev01"), field("Info", "<A>1</A>")]
        );
    }

    #[test]
    fn qrscene_prefix_stripped_once() {
        for (key, scene) in [
            ("qrscene_qrscene_abc", "qrscene_abc"),
            ("qrscene_123", "123"),
        ] {
            let body = event_body(&format!(
                "<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[{key}]]></EventKey><Ticket><![CDATA[gQFAKEticket]]></Ticket>"
            ));
            assert_eq!(
                event(&body),
                Event::Subscribe {
                    scene: owned(scene),
                    ticket: owned("gQFAKEticket"),
                    event_key: owned(key),
                }
            );
        }
    }

    #[test]
    fn last_trade_no_is_not_a_scene() {
        let body =
            event_body("<Event>subscribe</Event><EventKey>last_trade_no_4200000001</EventKey>");
        assert_eq!(
            event(&body),
            Event::Subscribe {
                scene: None,
                ticket: None,
                event_key: owned("last_trade_no_4200000001"),
            }
        );
    }

    #[test]
    fn scan_event_case_ignored() {
        for name in ["SCAN", "scan"] {
            let body = event_body(&format!(
                "<Event><![CDATA[{name}]]></Event><EventKey><![CDATA[123]]></EventKey><Ticket><![CDATA[gQFAKEticket]]></Ticket>"
            ));
            let inbound = parse(&body);
            assert_eq!(inbound.event.as_deref(), Some(name));
            assert_eq!(
                inbound.payload,
                Payload::Event(Event::Scan {
                    scene: "123".to_owned(),
                    ticket: owned("gQFAKEticket"),
                })
            );
        }
    }
}
