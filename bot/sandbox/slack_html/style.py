"""The page's one stylesheet: Slack's type, colours and spacing, readable from 1280 px down to a phone."""

from __future__ import annotations

CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#fff;color:#1d1c1d;font:15px/1.46668 Lato,"Slack-Lato","Helvetica Neue",Helvetica,
 "Segoe UI",Roboto,Arial,sans-serif,"Apple Color Emoji","Segoe UI Emoji","Noto Color Emoji";
 -webkit-font-smoothing:antialiased;overflow-wrap:anywhere}
b{font-weight:700}
a.link,.link{color:#1264a3;text-decoration:none}
a.link:hover{text-decoration:underline}
.link-unsafe{color:#616061;text-decoration:underline dotted}
.topbar{background:#3f0e40;color:#fff;padding:8px 20px;display:flex;gap:12px;align-items:baseline;flex-wrap:wrap}
.topbar h1{font-size:15px;margin:0;font-weight:900}
.topbar .sub{font-size:13px;opacity:.8}
.toc{padding:8px 20px;border-bottom:1px solid #e2e2e2;font-size:13px;color:#616061;display:flex;flex-wrap:wrap;
 gap:4px 14px}
.toc a{color:#1264a3;text-decoration:none;margin-right:8px}
.toc b{color:#1d1c1d}
.surface{border-bottom:1px solid #e2e2e2;padding-bottom:8px}
.surface-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 10px;padding:12px 20px;
 border-bottom:1px solid #e2e2e2;position:sticky;top:0;background:#fff;z-index:1}
.surface-head h2{margin:0;font-size:18px;font-weight:900}
.surface-head .sub{color:#616061;font-size:13px}
.group-label{margin:18px 20px 0;font-size:15px;font-weight:900}
.group-label .sub{font-weight:400;color:#616061;font-size:13px}
.view-states{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr))}
.view-state{min-width:0;display:flex;flex-direction:column}
.view-state .modal-stage{flex:1;align-items:flex-start}
.empty{padding:12px 20px;color:#616061;font-style:italic}
/* messages */
.msg{padding:8px 20px;position:relative}
.msg:hover{background:#f8f8f8}
.msg-row{display:flex;gap:8px;align-items:flex-start}
.avatar{flex:0 0 36px;width:36px;height:36px;border-radius:6px;color:#fff;font-weight:900;font-size:17px;
 display:flex;align-items:center;justify-content:center;margin-top:4px}
.avatar-app,.app-icon{background:linear-gradient(135deg,#2bac76 0%,#1264a3 100%);color:#fff}
.msg-main{flex:1;min-width:0}
.msg-head{display:flex;align-items:baseline;gap:6px;flex-wrap:wrap;line-height:1.3}
.author{font-weight:900}
.badge{font-size:10px;font-weight:700;line-height:1.3;padding:0 3px;border-radius:2px;
 background:rgba(29,28,29,.13);color:rgba(29,28,29,.7);letter-spacing:.02em}
.msg-time{font-size:12px;color:#616061}
.edited{display:block;font-size:12px;color:#616061;margin-top:-2px}
.msg-body .section-text+.edited{display:inline;margin-left:4px}
.msg-note{font-size:12px;color:#616061;margin:0 0 2px 44px}
.broadcast-note{font-size:13px;color:#616061}
.msg-ephemeral{background:#f4f8fb;border-left:3px solid #1264a3;margin:4px 0}
.only-you{font-size:12px;color:#616061;margin:0 0 2px 44px}
.msg-inert .btn,.msg-inert .select,.msg-inert .input{opacity:.55;cursor:default}
.reply-summary{font-size:13px;font-weight:700;color:#1264a3;margin-top:4px}
.reactions{display:flex;gap:4px;flex-wrap:wrap;margin-top:4px}
.reaction{border:1px solid #e2e2e2;border-radius:12px;padding:0 7px;font-size:12px;background:#f8f8f8}
/* threads and versions */
.thread{padding:4px 0 8px}
.replies-rule{display:flex;align-items:center;gap:8px;margin:2px 20px 0 64px;color:#616061;font-size:13px}
.replies-rule:after{content:"";flex:1;border-top:1px solid #e2e2e2}
.replies{margin-left:64px;border-left:2px solid #e2e2e2}
.replies .msg{padding-left:14px}
.version-label{font-size:11px;font-weight:700;letter-spacing:.04em;text-transform:uppercase;margin:8px 20px 0 64px}
.version-label span{text-transform:none;letter-spacing:0;font-weight:400;color:#616061}
.version-now{color:#007a5a}
.version-first{color:#8d6e00}
.version-old{background:#fffbf0}
.versions{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);align-items:start}
.versions .version-old{border-left:1px dashed #d9c89b}
.first-posted{margin:0 20px 6px 64px;border:1px dashed #d9c89b;border-radius:6px;background:#fffbf0}
.first-posted summary{cursor:pointer;font-size:12px;font-weight:700;color:#8d6e00;padding:4px 10px;
 text-transform:uppercase;letter-spacing:.04em}
.first-posted .msg{padding-left:10px}
/* blocks */
.block{margin:4px 0}
.msg-body>.block:first-child{margin-top:0}
.header{font-size:18px;font-weight:900;line-height:1.33;margin:8px 0 4px}
.section{display:block}
.section-with-accessory{display:flex;gap:12px;align-items:flex-start}
.section-body{flex:1;min-width:0}
.accessory{flex:0 0 auto;max-width:50%}
.fields{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:8px 16px;margin-top:4px}
.section-text+.fields{margin-top:8px}
.field-wide{grid-column:1/-1}
.field-title{font-weight:700}
.divider{border:0;border-top:1px solid #dddddd;margin:12px 0}
.context{display:flex;flex-wrap:wrap;align-items:center;gap:4px 8px;font-size:13px;line-height:1.38;
 color:#616061;margin:4px 0}
.context b{color:#1d1c1d}
.context .mention{font-size:13px}
.actions{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0 6px}
.bullet{display:flex;gap:6px;padding-left:6px}
.bullet-mark{flex:0 0 auto}
.quote{margin:4px 0;padding:0 0 0 12px;border-left:4px solid #dddddd}
.code{font:12px/1.5 Monaco,Menlo,Consolas,"Courier New",monospace;color:#e01e5a;
 background:rgba(29,28,29,.04);border:1px solid rgba(29,28,29,.13);border-radius:3px;padding:1px 3px;
 overflow-wrap:anywhere}
.pre{font:12px/1.5 Monaco,Menlo,Consolas,"Courier New",monospace;background:rgba(29,28,29,.04);
 border:1px solid rgba(29,28,29,.13);border-radius:4px;padding:8px;margin:4px 0;white-space:pre-wrap;
 overflow-wrap:anywhere}
.pre .code{border:0;background:none;padding:0;color:inherit}
.mention{color:#1264a3;background:rgba(29,155,209,.1);border-radius:3px;padding:0 2px}
.mention-broadcast,.mention-group{background:rgba(242,199,68,.4);color:#1d1c1d}
.emoji{font-style:normal}
time.date{border-bottom:1px dotted #9a9a9a}
.unsupported{border:1px dashed #e01e5a;color:#a0113e;background:#fdf2f5;border-radius:4px;padding:4px 8px;
 font-size:13px;margin:4px 0}
.unsupported code{font-size:12px}
.md-h{font-weight:900;margin:6px 0 2px}.md-h1{font-size:20px}.md-h2{font-size:18px}.md-h3{font-size:16px}
/* images, files, tables, attachments */
.img{display:inline-flex;align-items:center;justify-content:center;background:#f0f0f0;border:1px solid #dddddd;
 border-radius:6px;color:#616061}
.img-small{width:24px;height:24px;font-size:13px}
.img-context{width:20px;height:20px;border-radius:3px;font-size:11px}
.img-accessory{width:88px;height:88px;font-size:28px}
.img-block{display:flex;flex-direction:column;gap:4px;width:100%;max-width:360px;min-height:120px;padding:8px;
 text-align:center}
.img-icon{font-size:28px}
.img-alt{font-size:13px;color:#1d1c1d}
.img-source{font-size:11px;word-break:break-all}
.image-title{font-weight:700;font-size:13px;margin-bottom:4px}
.table-scroll{overflow-x:auto;max-width:100%}
.table{border-collapse:collapse;font-size:14px;min-width:50%}
.table th,.table td{border:1px solid #dddddd;padding:4px 8px;vertical-align:top;white-space:nowrap}
.table th{background:#f8f8f8;font-weight:700}
.table .wrap{white-space:normal}
.align-center{text-align:center}.align-right{text-align:right}.align-left{text-align:left}
.attachment{border-left:4px solid #dddddd;border-radius:4px 0 0 4px;padding:2px 0 2px 12px;margin:6px 0}
.att-pretext{margin:4px 0}
.att-author{font-weight:700;font-size:13px}
.att-title{font-weight:700}
.att-footer{font-size:12px;color:#616061;margin-top:4px}
.files{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0}
.file-card,.file-block{display:flex;gap:10px;align-items:center;border:1px solid #dddddd;border-radius:8px;
 padding:8px 12px;max-width:420px;background:#fff}
.file-kind{background:#1264a3;color:#fff;font-size:10px;font-weight:900;border-radius:4px;padding:8px 6px;
 min-width:44px;text-align:center}
.file-meta{display:flex;flex-direction:column;min-width:0}
.file-title{font-weight:700;font-size:14px}
.file-details{font-size:12px;color:#616061}
/* controls */
.btn{display:inline-flex;align-items:center;gap:4px;height:28px;padding:0 12px;border:1px solid
 rgba(29,28,29,.3);border-radius:4px;background:#fff;color:#1d1c1d;font-size:13px;font-weight:700;
 white-space:nowrap;cursor:pointer;line-height:1}
.btn-primary{background:#007a5a;border-color:#007a5a;color:#fff}
.btn-danger{background:#e01e5a;border-color:#e01e5a;color:#fff}
.btn-inert,.btn[aria-disabled=true]{opacity:.5;cursor:default}
.btn-external{font-size:11px}
.overflow{display:inline-block;position:relative}
.overflow summary{list-style:none;padding:0 8px;font-size:16px}
.overflow summary::-webkit-details-marker{display:none}
.menu{position:absolute;right:0;z-index:2;margin:4px 0;padding:6px 0;list-style:none;background:#fff;
 border:1px solid #dddddd;border-radius:6px;box-shadow:0 4px 12px rgba(0,0,0,.12);min-width:160px}
.menu li{padding:4px 16px;font-size:14px;white-space:nowrap}
.select,.input{display:flex;align-items:center;gap:6px;min-height:36px;padding:4px 10px;border:1px solid
 rgba(29,28,29,.3);border-radius:4px;background:#fff;font-size:15px;min-width:0;width:100%}
.actions .select,.accessory .select{display:inline-flex;width:auto;min-width:180px;min-height:28px;font-size:13px;
 font-weight:700}
.select-value{flex:1;min-width:0;display:flex;flex-wrap:wrap;gap:4px;align-items:center}
.caret{color:#616061;font-size:12px}
.control-icon{font-size:14px}
.placeholder{color:#868686;font-weight:400}
.input-multiline{min-height:88px;align-items:flex-start;white-space:pre-wrap}
.chip{display:inline-flex;align-items:center;gap:4px;background:rgba(29,28,29,.06);border-radius:4px;
 padding:1px 6px 1px 2px;font-size:14px}
.chip-avatar{width:20px;height:20px;border-radius:4px;background:#1264a3;color:#fff;font-size:11px;
 font-weight:900;display:inline-flex;align-items:center;justify-content:center}
.chip-channel .chip-avatar{background:#616061}
.choices{display:flex;flex-direction:column;gap:6px}
.choice{display:flex;gap:8px;align-items:flex-start}
.choice-text{display:flex;flex-direction:column}
.choice-description{font-size:13px;color:#616061}
.checkbox,.radio{flex:0 0 16px;width:16px;height:16px;margin-top:3px;border:1px solid rgba(29,28,29,.5);
 background:#fff}
.checkbox{border-radius:3px}.radio{border-radius:50%}
.choice-on .checkbox{background:#1264a3;border-color:#1264a3;position:relative}
.choice-on .checkbox:after{content:"";position:absolute;left:4px;top:1px;width:5px;height:9px;border:solid #fff;
 border-width:0 2px 2px 0;transform:rotate(45deg)}
.choice-on .radio{border:5px solid #1264a3}
.file-drop{display:block;border:1px dashed rgba(29,28,29,.4);border-radius:6px;padding:16px;text-align:center;
 color:#616061;font-size:14px}
.input-block{margin:14px 0 6px}
.label{font-weight:700;margin-bottom:6px}
.optional{font-weight:400;color:#616061}
.hint{font-size:13px;color:#616061;margin-top:4px}
.input-error{color:#e01e5a;font-size:13px;margin-top:4px;font-weight:700}
.has-error .select,.has-error .input{border-color:#e01e5a;box-shadow:0 0 0 1px #e01e5a}
/* modals */
.modal-stage{background:rgba(29,28,29,.55);padding:32px 16px;display:flex;justify-content:center}
.modal{background:#fff;border-radius:8px;width:100%;max-width:520px;box-shadow:0 18px 48px rgba(0,0,0,.35);
 display:flex;flex-direction:column}
.modal-head{display:flex;align-items:center;gap:10px;padding:18px 24px;border-bottom:1px solid #e2e2e2}
.app-icon{width:24px;height:24px;border-radius:5px;display:inline-flex;align-items:center;justify-content:center;
 font-size:13px;font-weight:900;flex:0 0 auto}
.modal-title{font-size:22px;font-weight:900;flex:1;line-height:1.2}
.modal-status{font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.04em;color:#616061;
 border:1px solid #dddddd;border-radius:10px;padding:1px 8px}
.modal-x{font-size:24px;color:#616061;line-height:1}
.modal-body{padding:12px 24px 16px}
.modal-foot{display:flex;justify-content:flex-end;gap:12px;padding:16px 24px;border-top:1px solid #e2e2e2}
.modal-foot .btn{height:36px;padding:0 16px;font-size:15px}
.state-label{margin:14px 20px 6px;font-size:13px;color:#616061}
.state-label b{color:#1d1c1d}
/* App Home */
.home{width:100%}
.home-head{display:flex;align-items:center;gap:10px;padding:12px 20px}
.home-head .app-icon{width:32px;height:32px;font-size:16px;border-radius:7px}
.home-app{font-size:18px;font-weight:900}
.home-who{font-size:13px;color:#616061}
.home-tabs{display:flex;gap:22px;padding:0 20px;border-bottom:1px solid #e2e2e2;font-size:14px}
.tab{padding:8px 0 10px;color:#616061;border-bottom:2px solid transparent}
.tab-on{color:#1d1c1d;font-weight:700;border-bottom-color:#1d1c1d}
.home-body{padding:12px 24px 24px;max-width:880px}
/* one surface on its own page (screenshots) */
.solo{padding:8px 0 16px}
@media (max-width:600px){
 body{font-size:15px}
 .topbar,.toc{padding-left:12px;padding-right:12px}
 .surface-head{padding:10px 12px;position:static}
 .msg{padding:8px 12px}
 .avatar{flex-basis:32px;width:32px;height:32px;font-size:15px}
 .only-you,.msg-note{margin-left:40px}
 .replies{margin-left:20px}
 .replies-rule,.version-label{margin-left:20px;margin-right:12px}
 .first-posted{margin-left:20px;margin-right:12px}
 .versions{grid-template-columns:minmax(0,1fr)}
 .versions .version-old{border-left:0;border-top:1px dashed #d9c89b}
 .section-with-accessory{flex-wrap:wrap}
 .accessory{max-width:100%}
 .fields{gap:6px 12px}
 .modal-stage{padding:12px 8px}
 .modal-head,.modal-body,.modal-foot{padding-left:16px;padding-right:16px}
 .modal-title{font-size:19px}
 .home-body{padding:8px 14px 18px}
 .home-head,.home-tabs{padding-left:14px;padding-right:14px}
 .group-label{margin-left:12px}
 .view-states{grid-template-columns:minmax(0,1fr)}
}
"""
