from django.urls import path

from . import views, views_authoring, views_cases

app_name = "integration"
urlpatterns = [
    path("", views.overview, name="index"),
    path("findings/", views.findings, name="findings"),
    path("findings/<int:finding_id>/", views.finding_detail, name="finding"),
    path("convergence/", views.convergence, name="convergence"),
    path("convergence/themes/<int:theme_id>/", views.convergence_theme, name="convergence_theme"),
    path("propositions/", views.propositions, name="propositions"),
    path("propositions/new/", views_authoring.new_proposition, name="new_proposition"),
    path("propositions/<int:proposition_id>/", views.proposition_detail, name="proposition"),
    path(
        "propositions/<int:proposition_id>/edit/",
        views_authoring.edit_proposition,
        name="edit_proposition",
    ),
    path(
        "propositions/<int:proposition_id>/delete/",
        views_authoring.delete_proposition,
        name="delete_proposition",
    ),
    path(
        "propositions/<int:proposition_id>/lock/", views.lock_proposition, name="lock_proposition"
    ),
    path(
        "propositions/<int:proposition_id>/test/", views.test_proposition, name="test_proposition"
    ),
    path("displays/", views.display_list, name="displays"),
    # Before the display pattern: "new" is a page, not a display (views_authoring keeps
    # displays from taking that slug).
    path("displays/new/", views_authoring.new_display, name="new_display"),
    path("displays/<slug:display_slug>/", views.display_detail, name="display"),
    path(
        "displays/<slug:display_slug>/rows/new/",
        views_authoring.new_display_row,
        name="new_display_row",
    ),
    path(
        "displays/<slug:display_slug>/rows/<int:row_id>/",
        views_authoring.display_row,
        name="display_row",
    ),
    path(
        "displays/<slug:display_slug>/rows/<int:row_id>/meta-inference/",
        views.meta_inference,
        name="meta_inference",
    ),
    # Linked cases, quantitized codes and the QCA of the sites (views_cases).
    path("cases/", views_cases.case_list, name="cases"),
    path("cases/<int:case_id>/", views_cases.case_detail, name="case"),
    path("cases/matrix/", views_cases.mixed_matrix, name="mixed_matrix"),
    path("cases/quantitized/", views_cases.quantitized, name="quantitized"),
    path("cases/crosstab/", views_cases.crosstab, name="crosstab"),
    path("qca/", views_cases.qca_list, name="qca"),
    path("qca/<int:qca_run_id>/", views_cases.qca_detail, name="qca_run"),
]
