// i18n.js — every string the page shows, in Vietnamese and English, and the
// language toggle.  Elements carry data-i18n="key" (text), data-i18n-ph
// (placeholder) or data-i18n-title (title); apply() fills them in, and t()
// gives a string to code that builds the page.  Codes from the API
// (statuses, symptoms, reasons, coverage classes) are translated through
// the same table with a prefix ("status.blocked").

const STRINGS = {
    vi: {
        'app.title': 'Lõm sóng — điểm lõm sóng di động',
        'app.short': 'Lõm sóng',
        'lang.toggle': 'English',
        'lang.toggle.title': 'Switch to English',
        'net.online': 'Trực tuyến',
        'net.offline': 'Ngoại tuyến — báo cáo sẽ được gửi khi có mạng',
        'signin.title': 'Đăng nhập',
        'signin.token': 'Mã truy cập (token)',
        'signin.token.ph': 'Dán mã truy cập tại đây',
        'signin.submit': 'Đăng nhập',
        'signin.out': 'Đăng xuất',
        'signin.help':
            'Mã truy cập do quản trị viên cấp (lệnh lomsong token create). Không đăng nhập vẫn xem được bản đồ vùng phủ sóng.',
        'signin.bad': 'Mã truy cập không hợp lệ, đã thu hồi hoặc hết hạn.',
        'signin.offline': 'Đang ngoại tuyến: dùng thông tin đăng nhập đã lưu.',
        'role.ministry': 'Bộ TT&TT',
        'role.locality': 'Địa phương',
        'role.carrier': 'Nhà mạng',
        'role.utility': 'Điện lực',
        'role.public': 'Công chúng',
        'legend.title': 'Chú giải',
        'legend.coverage': 'Vùng phủ (tải xuống)',
        'legend.points': 'Điểm lõm sóng',
        'legend.units': 'Ranh giới tỉnh',
        'legend.cluster': 'Nhóm điểm (số điểm)',
        'legend.carrier': 'Nhà mạng',
        'legend.tech': 'Công nghệ',
        'legend.all': 'Tất cả',
        'class.meets': 'Đạt ≥ 40 Mbps',
        'class.below': 'Dưới 40 Mbps',
        'class.none': 'Không có sóng',
        'status.reported': 'Đã báo cáo',
        'status.triaged': 'Đã phân loại',
        'status.assigned': 'Đã giao',
        'status.in_progress': 'Đang xử lý',
        'status.blocked': 'Vướng mắc',
        'status.fixed': 'Đã khắc phục',
        'status.verified': 'Đã xác minh',
        'status.rejected': 'Từ chối',
        'status.reopened': 'Mở lại',
        'status.merged': 'Đã gộp',
        'status.withdrawn': 'Đã rút',
        'status.disputed': 'Có khiếu nại',
        'symptom.no_signal': 'Mất sóng',
        'symptom.weak_signal': 'Sóng yếu',
        'symptom.slow_data': 'Dữ liệu chậm',
        'reason.no_power': 'Chưa có điện',
        'reason.site_permit': 'Vướng mặt bằng, giấy phép',
        'reason.terrain': 'Địa hình',
        'reason.investment': 'Chưa có vốn đầu tư',
        'reason.other': 'Lý do khác',
        'reason.none': 'Chưa rõ lý do',
        'report.title': 'Báo cáo điểm lõm sóng',
        'report.hint': 'Chạm vào bản đồ tại nơi mất sóng, hoặc dùng vị trí hiện tại của bạn.',
        'report.new': 'Báo cáo mới tại vị trí của tôi',
        'report.locate': 'Dùng vị trí của tôi',
        'report.locating': 'Đang lấy vị trí…',
        'report.nolocation': 'Không lấy được vị trí: ',
        'report.where': 'Vị trí',
        'report.technology': 'Công nghệ',
        'report.carriers': 'Nhà mạng bị ảnh hưởng',
        'report.symptom': 'Hiện tượng',
        'report.place': 'Thôn, bản, địa danh',
        'report.place.ph': 'Ví dụ: Thôn Nậm Sài',
        'report.people': 'Số người bị ảnh hưởng',
        'report.note': 'Ghi chú',
        'report.submit': 'Gửi báo cáo',
        'report.cancel': 'Huỷ',
        'report.sent': 'Đã gửi báo cáo',
        'report.queued': 'Chưa có mạng: báo cáo được lưu trên máy và sẽ tự gửi khi có mạng.',
        'report.refused': 'Máy chủ từ chối báo cáo',
        'report.retry': 'Gửi lại sau',
        'mine.title': 'Báo cáo của địa phương',
        'mine.empty': 'Chưa có báo cáo nào.',
        'mine.cached': 'Danh sách lưu từ lần trực tuyến trước.',
        'outbox.title': 'Đang chờ gửi',
        'outbox.waiting': 'đang chờ gửi',
        'outbox.refused': 'bị từ chối',
        'outbox.dismiss': 'Bỏ',
        'outbox.send': 'Gửi ngay',
        'work.title': 'Việc được giao',
        'work.empty': 'Không có việc nào được giao.',
        'work.due': 'Hạn',
        'work.overdue': 'Quá hạn',
        'action.start': 'Bắt đầu xử lý',
        'action.block': 'Báo vướng mắc',
        'action.unblock': 'Hết vướng mắc',
        'action.fixed': 'Đã khắc phục',
        'action.triage': 'Phân loại',
        'action.reject': 'Từ chối',
        'action.assign': 'Giao nhà mạng',
        'action.reopen': 'Mở lại',
        'action.dispute': 'Khiếu nại kết quả',
        'action.power': 'Đã có điện',
        'action.reason': 'Lý do',
        'action.due': 'Hạn xử lý',
        'action.note': 'Ghi chú',
        'action.done': 'Đã cập nhật',
        'action.failed': 'Không thực hiện được',
        'dash.title': 'Tổng hợp tiến độ',
        'dash.received': 'Đã tiếp nhận',
        'dash.awaiting_triage': 'Chờ phân loại',
        'dash.in_progress': 'Đang xử lý',
        'dash.blocked': 'Vướng mắc',
        'dash.fixed_not_verified': 'Khắc phục, chờ xác minh',
        'dash.verified': 'Đã xác minh',
        'dash.rejected': 'Từ chối',
        'dash.overdue': 'Quá hạn',
        'dash.median_days_to_verified': 'Số ngày đến khi xác minh (trung vị)',
        'dash.by_province': 'Tiến độ theo tỉnh',
        'dash.by_carrier': 'Tiến độ theo nhà mạng',
        'dash.by_reason': 'Vướng mắc theo lý do',
        'dash.overdue_list': 'Điểm quá hạn',
        'dash.no_overdue': 'Không có điểm nào quá hạn.',
        'dash.show_all': 'Xem tất cả',
        'dash.downloads': 'Tải xuống',
        'dash.csv': 'CSV',
        'dash.xlsx': 'Excel',
        'dash.by': 'theo',
        'dash.province': 'tỉnh',
        'dash.carrier': 'nhà mạng',
        'dash.tech': 'công nghệ',
        'dash.month': 'tháng',
        'dash.reason': 'lý do',
        'dash.exports': 'Xuất dữ liệu',
        'dash.export.points': 'Điểm lõm sóng',
        'dash.export.overdue': 'Điểm quá hạn',
        'dash.export.reports': 'Báo cáo',
        'dash.export.coverage': 'Ô vùng phủ',
        'dash.maps': 'Bản đồ tỉnh để in',
        'dash.unassigned': '(chưa giao)',
        'points.title': 'Điểm cần xử lý',
        'point.title': 'Điểm lõm sóng',
        'point.back': '← Quay lại',
        'point.status': 'Trạng thái',
        'point.technology': 'Công nghệ',
        'point.province': 'Tỉnh',
        'point.reports': 'Số báo cáo',
        'point.people': 'Số người bị ảnh hưởng',
        'point.due': 'Hạn xử lý',
        'point.carriers': 'Nhà mạng được giao',
        'point.history': 'Lịch sử',
        'point.evidence': 'Kết quả đo đã dùng để đánh giá',
        'point.evidence.none': 'Chưa có kết quả đo gần điểm này.',
        'point.coverage_here': 'Đo tốc độ tại chỗ (ô lưới gần nhất)',
        'point.tests': 'phép đo',
        'point.days': 'ngày',
        'point.meeting': 'đạt chuẩn',
        'point.share': 'Tỉ lệ đạt',
        'point.p10': 'P10',
        'point.p50': 'Trung vị',
        'point.last': 'Lần đo cuối',
        'point.reports_list': 'Các báo cáo',
        'point.report_here': 'Báo cáo thêm tại đây',
        'event.report': 'Báo cáo',
        'event.transition': 'Chuyển trạng thái',
        'event.dispute': 'Khiếu nại',
        'actor.ministry': 'Bộ TT&TT',
        'actor.locality': 'Địa phương',
        'actor.carrier': 'Nhà mạng',
        'actor.utility': 'Điện lực',
        'actor.system': 'Hệ thống (kết quả đo)',
        'error.load': 'Không tải được dữ liệu',
        'error.offline': 'Không có mạng',
        'common.loading': 'Đang tải…',
        'common.close': 'Đóng',
        'common.yes': 'có',
        'common.no': 'không',
        'common.people': 'người',
        'common.point': 'Điểm',
        'map.hint.public': 'Bản đồ vùng phủ sóng 3G/4G: xanh đạt chuẩn 40 Mbps, cam dưới chuẩn, đỏ không có sóng.',
    },
    en: {
        'app.title': 'Lõm sóng — mobile dead zones',
        'app.short': 'Lõm sóng',
        'lang.toggle': 'Tiếng Việt',
        'lang.toggle.title': 'Chuyển sang tiếng Việt',
        'net.online': 'Online',
        'net.offline': 'Offline — reports will be sent when the connection returns',
        'signin.title': 'Sign in',
        'signin.token': 'Access token',
        'signin.token.ph': 'Paste your token here',
        'signin.submit': 'Sign in',
        'signin.out': 'Sign out',
        'signin.help':
            'Tokens are issued by an administrator (lomsong token create). The coverage map works without signing in.',
        'signin.bad': 'The token is not valid: unknown, revoked or expired.',
        'signin.offline': 'Offline: using the saved sign-in.',
        'role.ministry': 'Ministry (MIC)',
        'role.locality': 'Locality',
        'role.carrier': 'Carrier',
        'role.utility': 'Power utility',
        'role.public': 'Public',
        'legend.title': 'Legend',
        'legend.coverage': 'Coverage (download)',
        'legend.points': 'Dead-zone points',
        'legend.units': 'Province boundaries',
        'legend.cluster': 'Group of points (count)',
        'legend.carrier': 'Carrier',
        'legend.tech': 'Technology',
        'legend.all': 'All',
        'class.meets': 'Meets ≥ 40 Mbps',
        'class.below': 'Below 40 Mbps',
        'class.none': 'No service',
        'status.reported': 'Reported',
        'status.triaged': 'Triaged',
        'status.assigned': 'Assigned',
        'status.in_progress': 'In progress',
        'status.blocked': 'Blocked',
        'status.fixed': 'Fixed',
        'status.verified': 'Verified',
        'status.rejected': 'Rejected',
        'status.reopened': 'Reopened',
        'status.merged': 'Merged',
        'status.withdrawn': 'Withdrawn',
        'status.disputed': 'Disputed',
        'symptom.no_signal': 'No signal',
        'symptom.weak_signal': 'Weak signal',
        'symptom.slow_data': 'Slow data',
        'reason.no_power': 'No power',
        'reason.site_permit': 'Site or permit',
        'reason.terrain': 'Terrain',
        'reason.investment': 'Investment',
        'reason.other': 'Other',
        'reason.none': 'No reason given',
        'report.title': 'Report a dead zone',
        'report.hint': 'Tap the map where there is no signal, or use your current position.',
        'report.new': 'New report at my position',
        'report.locate': 'Use my position',
        'report.locating': 'Finding your position…',
        'report.nolocation': 'Could not get the position: ',
        'report.where': 'Place',
        'report.technology': 'Technology',
        'report.carriers': 'Carriers affected',
        'report.symptom': 'Symptom',
        'report.place': 'Village or place name',
        'report.place.ph': 'e.g. Thôn Nậm Sài',
        'report.people': 'People affected',
        'report.note': 'Note',
        'report.submit': 'Send report',
        'report.cancel': 'Cancel',
        'report.sent': 'Report sent',
        'report.queued': 'No connection: the report is kept on this device and will be sent when the connection returns.',
        'report.refused': 'The server refused the report',
        'report.retry': 'Will retry later',
        'mine.title': 'Reports of your area',
        'mine.empty': 'No reports yet.',
        'mine.cached': 'List saved when last online.',
        'outbox.title': 'Waiting to be sent',
        'outbox.waiting': 'waiting',
        'outbox.refused': 'refused',
        'outbox.dismiss': 'Dismiss',
        'outbox.send': 'Send now',
        'work.title': 'Your assignments',
        'work.empty': 'Nothing is assigned to you.',
        'work.due': 'Due',
        'work.overdue': 'Overdue',
        'action.start': 'Start work',
        'action.block': 'Blocked',
        'action.unblock': 'Unblocked',
        'action.fixed': 'Mark fixed',
        'action.triage': 'Triage',
        'action.reject': 'Reject',
        'action.assign': 'Assign carriers',
        'action.reopen': 'Reopen',
        'action.dispute': 'Dispute the fix',
        'action.power': 'Power connected',
        'action.reason': 'Reason',
        'action.due': 'Due date',
        'action.note': 'Note',
        'action.done': 'Updated',
        'action.failed': 'Could not do that',
        'dash.title': 'Progress dashboard',
        'dash.received': 'Received',
        'dash.awaiting_triage': 'Awaiting triage',
        'dash.in_progress': 'In progress',
        'dash.blocked': 'Blocked',
        'dash.fixed_not_verified': 'Fixed, awaiting verification',
        'dash.verified': 'Verified',
        'dash.rejected': 'Rejected',
        'dash.overdue': 'Overdue',
        'dash.median_days_to_verified': 'Median days to verified',
        'dash.by_province': 'Progress by province',
        'dash.by_carrier': 'Progress by carrier',
        'dash.by_reason': 'Blocked, by reason',
        'dash.overdue_list': 'Overdue points',
        'dash.no_overdue': 'No point is overdue.',
        'dash.show_all': 'Show all',
        'dash.downloads': 'Downloads',
        'dash.csv': 'CSV',
        'dash.xlsx': 'Excel',
        'dash.by': 'by',
        'dash.province': 'province',
        'dash.carrier': 'carrier',
        'dash.tech': 'technology',
        'dash.month': 'month',
        'dash.reason': 'reason',
        'dash.exports': 'Data exports',
        'dash.export.points': 'Dead-zone points',
        'dash.export.overdue': 'Overdue points',
        'dash.export.reports': 'Reports',
        'dash.export.coverage': 'Coverage cells',
        'dash.maps': 'Printable province map',
        'dash.unassigned': '(not assigned)',
        'points.title': 'Points to act on',
        'point.title': 'Dead-zone point',
        'point.back': '← Back',
        'point.status': 'Status',
        'point.technology': 'Technology',
        'point.province': 'Province',
        'point.reports': 'Reports',
        'point.people': 'People affected',
        'point.due': 'Due date',
        'point.carriers': 'Assigned carriers',
        'point.history': 'History',
        'point.evidence': 'Measurements it was judged on',
        'point.evidence.none': 'No measurements near this point yet.',
        'point.coverage_here': 'Speed tests here (nearest cell)',
        'point.tests': 'tests',
        'point.days': 'days',
        'point.meeting': 'meeting the minimum',
        'point.share': 'Share meeting',
        'point.p10': 'P10',
        'point.p50': 'Median',
        'point.last': 'Last measured',
        'point.reports_list': 'Reports',
        'point.report_here': 'Report here too',
        'event.report': 'Report',
        'event.transition': 'Status change',
        'event.dispute': 'Dispute',
        'actor.ministry': 'Ministry',
        'actor.locality': 'Locality',
        'actor.carrier': 'Carrier',
        'actor.utility': 'Power utility',
        'actor.system': 'System (measurements)',
        'error.load': 'Could not load the data',
        'error.offline': 'No connection',
        'common.loading': 'Loading…',
        'common.close': 'Close',
        'common.yes': 'yes',
        'common.no': 'no',
        'common.people': 'people',
        'common.point': 'Point',
        'map.hint.public': '3G/4G coverage map: green meets the 40 Mbps minimum, orange is below, red has no service.',
    },
};

const LANG_KEY = 'lomsong.lang';
let lang = 'vi';
const listeners = [];

/* The language in use: 'vi' or 'en'. */
export function getLang() {
    return lang;
}

/* A string in the current language; {name} placeholders from vars.  An
 * unknown key comes back as itself (so an API code we have no label for is
 * still shown). */
export function t(key, vars) {
    let s = STRINGS[lang][key];
    if (s === undefined) s = STRINGS.vi[key];
    if (s === undefined) return key.includes('.') ? key.slice(key.indexOf('.') + 1) : key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    return s;
}

/* Every key of both languages, for the test that both are complete. */
export function keys(which) {
    return Object.keys(STRINGS[which] || {});
}

/* Fills the data-i18n* attributes under root. */
export function apply(root = document) {
    document.documentElement.lang = lang;
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
    for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

/* Switches the language, remembers it, and tells the listeners (views
 * redraw what they built with t()). */
export function setLang(l) {
    lang = l === 'en' ? 'en' : 'vi';
    try {
        localStorage.setItem(LANG_KEY, lang);
    } catch {
        /* private mode: not remembered */
    }
    apply();
    for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
    listeners.push(fn);
}

/* The saved language, else the browser's (Vietnamese unless it asks for
 * something else first). */
export function initLang() {
    let l = null;
    try {
        l = localStorage.getItem(LANG_KEY);
    } catch {
        l = null;
    }
    if (!l) l = (navigator.language || 'vi').toLowerCase().startsWith('en') ? 'en' : 'vi';
    lang = l === 'en' ? 'en' : 'vi';
    apply();
}

/* Numbers and dates in the current language's style. */
export function fmtNum(n, digits = 0) {
    if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
    return Number(n).toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB', {
        maximumFractionDigits: digits,
    });
}

export function fmtDate(s, withTime = false) {
    if (!s) return '—';
    const d = new Date(s.length === 10 ? s + 'T00:00:00+07:00' : s);
    if (Number.isNaN(d.getTime())) return s;
    const opts = { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit', day: '2-digit' };
    if (withTime) Object.assign(opts, { hour: '2-digit', minute: '2-digit' });
    return d.toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB', opts);
}
