"""The same site under Django's test runner, with ToopherTestMixin."""

from django.test import TestCase

from django_toopher.testing import PASSWORD, ToopherTestMixin


class LoginTests(ToopherTestMixin, TestCase):
    def test_allowed_login(self):
        user, phone = self.create_paired_user()
        self.client.login(username=user.get_username(), password=PASSWORD)
        outcome = self.answer_pending(phone)
        self.assertTrue(outcome.granted)
        self.assertEqual(self.client.get("/").content, b"hello toopher-user")

    def test_denied_login(self):
        user, phone = self.create_paired_user(answer="deny")
        self.client.login(username=user.get_username(), password=PASSWORD)
        self.assertEqual(self.answer_pending(phone).status, "denied")
        self.assertEqual(self.client.get("/").status_code, 302)


class ChangeEmailTests(ToopherTestMixin, TestCase):
    toopher_overrides = {"MODE": "zero_storage"}

    def test_action_needs_approval(self):
        user, phone = self.create_paired_user()
        self.login_verified(user)
        self.assertRedirects(self.client.get("/email/"), "/toopher/pending/",
                             fetch_redirect_response=False)
        self.assertTrue(self.answer_pending(phone).granted)
        self.assertEqual(self.client.get("/email/").status_code, 200)
