//! The words on the pages, in English and Traditional Chinese. A sentence
//! that names the application is split around the name, because the name
//! sits in a different place in each language and is marked up on its own.

/// Every piece of text the sign-in and error pages show.
#[derive(Debug)]
pub struct Text {
    /// The service's name, at the top of every page.
    pub brand: &'static str,
    /// The window title of the sign-in page.
    pub sign_in_title: &'static str,
    /// The heading, before the application's name.
    pub heading_before: &'static str,
    /// The heading, after the application's name.
    pub heading_after: &'static str,
    /// Lead-in to the list of what the application gets, before its name.
    pub access_before: &'static str,
    /// Lead-in to the list of what the application gets, after its name.
    pub access_after: &'static str,
    /// Access that every grant gives.
    pub access_profile: &'static str,
    /// Access that an `offline` grant adds.
    pub access_offline: &'static str,
    /// Before the host the member returns to.
    pub return_to: &'static str,
    /// Label of the username field.
    pub username: &'static str,
    /// Label of the password field.
    pub password: &'static str,
    /// The button that signs in and gives access.
    pub allow: &'static str,
    /// The button that refuses access.
    pub deny: &'static str,
    /// Below the buttons.
    pub trust_hint: &'static str,
    /// After a wrong username or password, or a disabled member.
    pub wrong_credentials: &'static str,
    /// After Allow with an empty username or password.
    pub missing_credentials: &'static str,
    /// After a form whose anti-forgery token was missing or wrong.
    pub form_expired: &'static str,
    /// After too many failed sign-ins, before the number of seconds.
    pub retry_before: &'static str,
    /// After too many failed sign-ins, after the number of seconds.
    pub retry_after: &'static str,
    /// Accessible name of the language switch.
    pub language: &'static str,
    /// The language's own name, as the switch offers it.
    pub language_name: &'static str,
    /// The window title and heading of the error page.
    pub error_title: &'static str,
    /// The window title and heading of the page for too many attempts.
    pub busy_title: &'static str,
    /// Explanation for the member when the request is at fault.
    pub error_request: &'static str,
    /// Explanation for the member when the server is at fault.
    pub error_server: &'static str,
    /// Heading of the details for the application's developer.
    pub error_details: &'static str,
}

/// English.
pub static EN: Text = Text {
    brand: "HKTIA Membership",
    sign_in_title: "Sign in",
    heading_before: "Sign in to continue to ",
    heading_after: "",
    access_before: "",
    access_after: " will be able to:",
    access_profile: "See your username, display name and email address",
    access_offline: "Stay signed in after you close this page, until you end the session",
    return_to: "After you choose, you return to",
    username: "Username",
    password: "Password",
    allow: "Allow",
    deny: "Deny",
    trust_hint: "Choose Allow only if you trust this application. \
                 You can end its access at any time.",
    wrong_credentials: "The username or password is incorrect. Try again.",
    missing_credentials: "Enter your username and password, then choose Allow.",
    form_expired: "This page had expired, so nothing was sent. Sign in again.",
    retry_before: "Too many sign-in attempts. Try again in ",
    retry_after: " seconds.",
    language: "Language",
    language_name: "English",
    error_title: "This sign-in link does not work",
    busy_title: "Too many sign-in attempts",
    error_request: "The application that sent you here made a request that cannot be \
                    accepted, so you cannot sign in from this link. Go back to the \
                    application and try again, or contact its developer.",
    error_server: "The sign-in service is unavailable at the moment. \
                   Try again in a few minutes.",
    error_details: "Details for the developer",
};

/// Traditional Chinese.
pub static ZH_HANT: Text = Text {
    brand: "HKTIA 會員專區",
    sign_in_title: "登入",
    heading_before: "登入以繼續使用 ",
    heading_after: "",
    access_before: "",
    access_after: " 將可以：",
    access_profile: "查看你的用戶名稱、顯示名稱及電郵地址",
    access_offline: "在你關閉此頁後保持登入，直至你結束該登入工作階段",
    return_to: "作出選擇後，你將返回",
    username: "用戶名稱",
    password: "密碼",
    allow: "允許",
    deny: "拒絕",
    trust_hint: "請只在信任此應用程式時選擇「允許」。你可隨時終止其存取權限。",
    wrong_credentials: "用戶名稱或密碼不正確，請再試一次。",
    missing_credentials: "請輸入用戶名稱及密碼，然後選擇「允許」。",
    form_expired: "此頁面已逾時，資料未有送出。請重新登入。",
    retry_before: "登入嘗試次數過多，請於 ",
    retry_after: " 秒後再試。",
    language: "語言",
    language_name: "繁體中文",
    error_title: "此登入連結無法使用",
    busy_title: "登入嘗試次數過多",
    error_request: "帶你來到此頁的應用程式發出了無法接受的要求，因此無法經此連結登入。\
                    請返回該應用程式再試，或聯絡其開發者。",
    error_server: "登入服務暫時無法使用，請於數分鐘後再試。",
    error_details: "給開發者的資料",
};
