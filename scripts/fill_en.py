"""One-off helper: fill English msgstrs from a dict (kept for re-use when catalogs grow)."""
import sys

from babel.messages.pofile import read_po, write_po

EN = {
    "Vui lòng đăng nhập để tiếp tục.": "Please log in to continue.",
    "— Chọn đối tượng —": "— Choose a category —",
    "Cán bộ, công chức, viên chức": "Civil servant or public employee",
    "Học sinh, sinh viên": "Pupil or student",
    "Người lao động": "Worker",
    "Đối tượng khác": "Other",
    "Số điện thoại không hợp lệ. Nhập 10 chữ số, ví dụ 0912345678.": "Invalid phone number. Enter 10 digits, e.g. 0912345678.",
    "Số điện thoại": "Phone number",
    "Vui lòng nhập số điện thoại.": "Please enter your phone number.",
    "Họ và tên (như trên CCCD)": "Full name (as on your ID card)",
    "Vui lòng nhập họ và tên.": "Please enter your full name.",
    "Họ và tên quá dài.": "The name is too long.",
    "Ngày sinh": "Date of birth",
    "Vui lòng nhập ngày sinh hợp lệ.": "Please enter a valid date of birth.",
    "Đơn vị dự thi": "Unit",
    "Vui lòng chọn đơn vị.": "Please choose your unit.",
    "Đối tượng": "Category",
    "Số CCCD (không bắt buộc)": "ID card number (optional)",
    "Email (không bắt buộc)": "Email (optional)",
    "Địa chỉ email không hợp lệ.": "Invalid email address.",
    "Mật khẩu": "Password",
    "Vui lòng nhập mật khẩu.": "Please enter a password.",
    "Mật khẩu phải có từ 8 đến 128 ký tự.": "The password must be 8 to 128 characters long.",
    "Nhập lại mật khẩu": "Repeat the password",
    "Vui lòng nhập lại mật khẩu.": "Please repeat the password.",
    "Hai mật khẩu không khớp nhau.": "The two passwords do not match.",
    "Tôi đồng ý để Ban tổ chức xử lý dữ liệu cá nhân của tôi cho mục đích tổ chức cuộc thi và trao giải, theo Nghị định 13/2023/NĐ-CP.":
        "I consent to the organisers processing my personal data to run the contest and award prizes, under Decree 13/2023/ND-CP.",
    "Bạn cần đồng ý với việc xử lý dữ liệu cá nhân để đăng ký dự thi.": "You must consent to personal-data processing to register.",
    "Đăng ký": "Register",
    "Ngày sinh không được ở tương lai.": "The date of birth cannot be in the future.",
    "Ngày sinh không hợp lệ.": "Invalid date of birth.",
    "Số CCCD phải gồm đúng 12 chữ số.": "The ID card number must have exactly 12 digits.",
    "Ba chữ số đầu của CCCD không phải mã tỉnh hợp lệ (001–096).": "The first three digits of the ID number are not a valid province code (001–096).",
    "Số CCCD không khớp với năm sinh đã nhập.": "The ID card number does not match the year of birth entered.",
    "Số điện thoại hoặc email": "Phone number or email",
    "Vui lòng nhập số điện thoại hoặc email.": "Please enter your phone number or email.",
    "Ghi nhớ đăng nhập": "Remember me",
    "Đăng nhập": "Log in",
    "Mật khẩu hiện tại": "Current password",
    "Vui lòng nhập mật khẩu hiện tại.": "Please enter your current password.",
    "Mật khẩu mới": "New password",
    "Vui lòng nhập mật khẩu mới.": "Please enter a new password.",
    "Nhập lại mật khẩu mới": "Repeat the new password",
    "Vui lòng nhập lại mật khẩu mới.": "Please repeat the new password.",
    "Đổi mật khẩu": "Change password",
    "Đăng ký thành công. Chào mừng %(name)s!": "Registration complete. Welcome, %(name)s!",
    "Số điện thoại/email hoặc mật khẩu không đúng.": "Wrong phone number/email or password.",
    "Tài khoản này đã bị khóa. Vui lòng liên hệ Ban tổ chức.": "This account is locked. Please contact the organisers.",
    "Đăng nhập thành công.": "Logged in.",
    "Bạn đã đăng xuất.": "You have logged out.",
    "Mật khẩu hiện tại không đúng.": "The current password is wrong.",
    "Đã đổi mật khẩu.": "Password changed.",
    "Số điện thoại không hợp lệ.": "Invalid phone number.",
    "Vai trò không hợp lệ.": "Invalid role.",
    "Số điện thoại này đã được đăng ký.": "This phone number is already registered.",
    "Số CCCD này đã được đăng ký cho một tài khoản khác.": "This ID card number is already registered to another account.",
    "Email này đã được đăng ký.": "This email is already registered.",
    "Phiên làm việc đã hết hạn": "Session expired",
    "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại.": "The form has expired or is invalid. Please reload the page and try again.",
    "Không có quyền truy cập": "Access denied",
    "Tài khoản của bạn không có quyền xem trang này.": "Your account may not view this page.",
    "Không tìm thấy trang": "Page not found",
    "Trang bạn tìm không tồn tại hoặc đã được chuyển đi.": "The page does not exist or has moved.",
    "Quá nhiều yêu cầu": "Too many requests",
    "Bạn đã thử quá nhiều lần. Vui lòng đợi một lát rồi thử lại.": "Too many attempts. Please wait a moment and try again.",
    "Lỗi hệ thống": "System error",
    "Đã có lỗi xảy ra. Vui lòng thử lại sau ít phút.": "Something went wrong. Please try again in a few minutes.",
    "Tên đơn vị": "Unit name",
    "Vui lòng nhập tên đơn vị.": "Please enter the unit's name.",
    "Thuộc": "Parent",
    "Mã đơn vị (không bắt buộc)": "Unit code (optional)",
    "Tổng số người của đơn vị (không bắt buộc)": "Unit headcount (optional)",
    "Số người phải lớn hơn 0.": "The headcount must be greater than 0.",
    "Thêm đơn vị": "Add unit",
    "— Cấp tỉnh/thành phố (gốc) —": "— Province/city (top level) —",
    "Mã đơn vị này đã tồn tại.": "This unit code already exists.",
    "Đã thêm đơn vị %(name)s.": "Unit %(name)s added.",
    "Vui lòng sửa các lỗi được đánh dấu bên dưới.": "Please correct the errors marked below.",
    "Thi tìm hiểu pháp luật trực tuyến": "Online legal-knowledge contest",
    "Bỏ qua, đến nội dung chính": "Skip to main content",
    "Thi tìm hiểu pháp luật": "Legal-knowledge contest",
    "Điều hướng chính": "Main navigation",
    "Đơn vị": "Units",
    "Tài khoản": "Account",
    "Đăng xuất": "Log out",
    "Nền tảng mã nguồn mở phục vụ các cuộc thi tìm hiểu pháp luật trực tuyến.": "An open-source platform for online legal-knowledge contests.",
    "Về trang chủ": "Back to the home page",
    "Cuộc thi tìm hiểu pháp luật trực tuyến": "Online legal-knowledge contest",
    "Tìm hiểu pháp luật, trả lời câu hỏi trắc nghiệm trong thời gian quy định và theo dõi bảng xếp hạng trực tiếp.":
        "Learn the law, answer multiple-choice questions within the time limit and follow the live leaderboard.",
    "Xin chào, %(name)s.": "Hello, %(name)s.",
    "Đăng ký dự thi": "Register to compete",
    "Cách tham gia": "How to take part",
    "Đăng ký tài khoản bằng số điện thoại, chọn đúng đơn vị dự thi.": "Register with your phone number and choose your unit.",
    "Đọc thể lệ, bắt đầu lượt thi khi tuần thi mở.": "Read the rules and start an attempt while the round is open.",
    "Trả lời các câu hỏi trước khi hết giờ; mọi câu trả lời được lưu ngay trên máy chủ.": "Answer before time runs out; every answer is saved on the server at once.",
    "Dự đoán số người trả lời đúng tất cả câu hỏi, rồi nộp bài.": "Predict how many people will answer every question correctly, then submit.",
    "Chưa có tài khoản?": "No account yet?",
    "Tài khoản của tôi": "My account",
    "Họ và tên": "Full name",
    "Số CCCD": "ID card number",
    "Email": "Email",
    "Vai trò": "Role",
    "Thí sinh": "Contestant",
    "Ban tổ chức": "Organisers",
    "Ban giám khảo": "Judges",
    "Quản trị": "Administrator",
    "Đồng ý xử lý dữ liệu cá nhân": "Consent to personal-data processing",
    "Thông tin định danh không thể tự sửa sau khi đăng ký. Nếu có sai sót, vui lòng liên hệ Ban tổ chức.":
        "Identity details cannot be changed after registration. If something is wrong, please contact the organisers.",
    "Họ tên, ngày sinh và số CCCD phải đúng như trên giấy tờ tùy thân để nhận giải; sau khi đăng ký bạn không thể tự sửa các thông tin này.":
        "Your name, date of birth and ID number must match your ID card to receive a prize; you cannot change them after registering.",
    "Dùng để đăng nhập. Ví dụ: 0912345678.": "Used to log in. Example: 0912345678.",
    "— Chọn đơn vị —": "— Choose a unit —",
    "12 chữ số. Mỗi số CCCD chỉ được đăng ký một tài khoản. Số CCCD không hiển thị công khai.":
        "12 digits. One account per ID number. The number is never shown publicly.",
    "Ít nhất 8 ký tự.": "At least 8 characters.",
    "Đã có tài khoản?": "Already registered?",
    "%(n)s người": "%(n)s people",
    "Chưa có đơn vị nào.": "No units yet.",
}


def main(path):
    with open(path, "rb") as f:
        catalog = read_po(f)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if not message.string and message.id in EN:
            message.string = EN[message.id]
        if not message.string:
            missing.append(message.id)
    with open(path, "wb") as f:
        write_po(f, catalog, width=0, omit_header=False)
    for m in missing:
        print("untranslated:", m)


if __name__ == "__main__":
    main(sys.argv[1])
