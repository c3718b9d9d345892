/// The templates compiled into the binary, by file name, in the same form as the override files of
/// `mail.templates` (README "Mail templates"): copy one into that directory to change it.
///
/// Each says what the code is for, how long it lasts, and what to do if the reader did not ask for it. The code is
/// in the body only, never in the subject (subjects end up in mail logs and notifications). They have no HTML part:
/// plain text says all a code needs, and an override can add one (`<kind>.<lang>.html.mustache`).
enum BuiltInMailTemplates {
    static let files: [String: String] = [
        // English
        "verify_email.en.subject.mustache": "Verify your email address",
        "verify_email.en.txt.mustache": """
        Your {{app_name}} verification code is {{code}}.

        Enter it to confirm your email address. It expires in {{expiry}}.

        If you did not ask for it, ignore this message.

        """,
        "reset_password.en.subject.mustache": "Reset your password",
        "reset_password.en.txt.mustache": """
        Your {{app_name}} password reset code is {{code}}.

        Enter it with your new password. It expires in {{expiry}}.

        If you did not ask to reset your password, ignore this message: your password has not been changed.

        """,
        "password_changed.en.subject.mustache": "Your password was changed",
        "password_changed.en.txt.mustache": """
        The password of your {{app_name}} account {{email}} was changed at {{at}}.

        If this was you, there is nothing to do.

        If this was not you, someone else knows your password or can read your mail: reset your password now with \
        "forgot password", and check who can access this mailbox.

        """,
        "invitation.en.subject.mustache": "You are invited to {{app_name}}",
        "invitation.en.txt.mustache": """
        An account on {{app_name}} was made for you: {{email}}.

        To choose your password, enter this code: {{code}}. It expires in {{expiry}}.

        If you do not want this account, ignore this message.

        """,
        // Spanish
        "verify_email.es.subject.mustache": "Verifica tu dirección de correo",
        "verify_email.es.txt.mustache": """
        Tu código de verificación de {{app_name}} es {{code}}.

        Introdúcelo para confirmar tu dirección de correo. Caduca en {{expiry}}.

        Si no lo has pedido, ignora este mensaje.

        """,
        "reset_password.es.subject.mustache": "Restablece tu contraseña",
        "reset_password.es.txt.mustache": """
        Tu código para restablecer la contraseña de {{app_name}} es {{code}}.

        Introdúcelo junto con tu nueva contraseña. Caduca en {{expiry}}.

        Si no has pedido restablecer tu contraseña, ignora este mensaje: tu contraseña no ha cambiado.

        """,
        "password_changed.es.subject.mustache": "Tu contraseña ha cambiado",
        "password_changed.es.txt.mustache": """
        La contraseña de tu cuenta de {{app_name}} {{email}} se cambió el {{at}}.

        Si fuiste tú, no tienes que hacer nada.

        Si no fuiste tú, alguien más conoce tu contraseña o puede leer tu correo: restablece tu contraseña ahora \
        con "olvidé mi contraseña" y revisa quién tiene acceso a este buzón.

        """,
        "invitation.es.subject.mustache": "Te han invitado a {{app_name}}",
        "invitation.es.txt.mustache": """
        Se ha creado una cuenta de {{app_name}} para ti: {{email}}.

        Para elegir tu contraseña, introduce este código: {{code}}. Caduca en {{expiry}}.

        Si no quieres esta cuenta, ignora este mensaje.

        """,
    ]
}
