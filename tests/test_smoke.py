from grants.accounts.enums import Role


def test_home_page_renders_for_anonymous_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Partnership Grants" in response.get_data(as_text=True)


def test_admin_sees_users_after_logging_in(client, make_user, login):
    admin = make_user(Role.ADMIN)
    login(admin)
    response = client.get("/admin/users")
    assert response.status_code == 200
    assert admin.email in response.get_data(as_text=True)
