from django.urls import path

from . import views

app_name = "casework"
urlpatterns = [
    path("", views.source_list, name="sources"),
    path("sources/add/", views.add_source, name="add_source"),
    path("sources/<int:source_id>/", views.source_reader, name="reader"),
    path("sources/<int:source_id>/codings/", views.apply_codings, name="apply"),
    path("sources/<int:source_id>/cases/", views.link_case, name="link_case"),
    path("codings/<int:coding_id>/adjust/", views.adjust_coding, name="adjust"),
    path("codings/<int:coding_id>/nudge/", views.nudge_coding, name="nudge"),
    path("codings/<int:coding_id>/delete/", views.delete_coding, name="delete"),
    path("memos/", views.add_memo, name="memo"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("codebook/", views.codebook, name="codebook"),
    path("codebook/new/", views.code_create, name="code_create"),
    path("codebook/<int:code_id>/", views.code_edit, name="code_edit"),
    path("codebook/<int:code_id>/merge/", views.code_merge, name="code_merge"),
    path("codebook/<int:code_id>/split/", views.code_split, name="code_split"),
    path("codebook/export.<str:fmt>", views.codebook_export, name="codebook_export"),
    path("segments/", views.retrieval, name="retrieval"),
    path("segments/by-id/", views.segments, name="segments"),
    path("search/", views.search, name="search"),
    path("combinations/", views.combinations, name="combinations"),
    path("matrix-coding/", views.matrix_query, name="matrix_query"),
    path("co-occurrence/", views.cooccurrence, name="cooccurrence"),
    path("frameworks/", views.framework_list, name="frameworks"),
    path("frameworks/<int:matrix_id>/", views.framework_detail, name="framework"),
    path(
        "frameworks/<int:matrix_id>/cells/<int:case_id>/<int:code_id>/",
        views.framework_cell,
        name="framework_cell",
    ),
    path("agreement/", views.agreement, name="agreement"),
    path(
        "agreement/sources/<int:source_id>/",
        views.agreement_differences,
        name="agreement_differences",
    ),
]
